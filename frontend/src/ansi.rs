//! ANSI colour codes (SGR `ESC[...m`) in log lines, turned into styled text segments.
//!
//! The result is rendered as text nodes in `<span>`s with a class or inline colour: a log
//! line is never HTML, whatever it contains (`<script>` stays text). Other escape
//! sequences (cursor moves, titles) are dropped.

/// A colour: one of the 16 named ones (a CSS class), or any other as `#rrggbb`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    Named(u8),
    Rgb(u8, u8, u8),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    pub fg: Option<Color>,
    pub bg: Option<Color>,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    pub style: Style,
}

fn palette(n: u8) -> Color {
    match n {
        0..=15 => Color::Named(n),
        16..=231 => {
            let n = n - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            Color::Rgb(level(n / 36), level((n / 6) % 6), level(n % 6))
        }
        _ => {
            let g = 8 + (n - 232) * 10;
            Color::Rgb(g, g, g)
        }
    }
}

/// `38;5;n` / `38;2;r;g;b` after the 38 or 48; advances `i` past what it read.
fn extended(codes: &[u16], i: &mut usize) -> Option<Color> {
    match codes.get(*i + 1) {
        Some(5) => {
            let n = *codes.get(*i + 2)?;
            *i += 2;
            Some(palette(n.min(255) as u8))
        }
        Some(2) => {
            let c = |k: usize| codes.get(*i + k).map(|v| (*v).min(255) as u8);
            let rgb = Color::Rgb(c(2)?, c(3)?, c(4)?);
            *i += 4;
            Some(rgb)
        }
        _ => None,
    }
}

fn apply(style: &mut Style, params: &str) {
    let codes: Vec<u16> = if params.is_empty() {
        vec![0]
    } else {
        params.split(';').map(|p| p.parse().unwrap_or(0)).collect()
    };
    let mut i = 0;
    while i < codes.len() {
        match codes[i] {
            0 => *style = Style::default(),
            1 => style.bold = true,
            2 => style.dim = true,
            3 => style.italic = true,
            4 => style.underline = true,
            22 => {
                style.bold = false;
                style.dim = false
            }
            23 => style.italic = false,
            24 => style.underline = false,
            c @ 30..=37 => style.fg = Some(Color::Named((c - 30) as u8)),
            38 => style.fg = extended(&codes, &mut i),
            39 => style.fg = None,
            c @ 40..=47 => style.bg = Some(Color::Named((c - 40) as u8)),
            48 => style.bg = extended(&codes, &mut i),
            49 => style.bg = None,
            c @ 90..=97 => style.fg = Some(Color::Named((c - 90 + 8) as u8)),
            c @ 100..=107 => style.bg = Some(Color::Named((c - 100 + 8) as u8)),
            _ => {}
        }
        i += 1;
    }
}

/// Split a line into styled segments; escape sequences themselves never show.
pub fn parse(line: &str) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut style = Style::default();
    let mut text = String::new();
    let mut chars = line.chars().peekable();
    let flush = |text: &mut String, style: Style, out: &mut Vec<Segment>| {
        if !text.is_empty() {
            out.push(Segment {
                text: std::mem::take(text),
                style,
            });
        }
    };
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            // Other control characters (but tabs) would only confuse the view.
            if c == '\t' || !c.is_control() {
                text.push(c);
            }
            continue;
        }
        match chars.peek() {
            Some('[') => {
                chars.next();
                let mut params = String::new();
                let mut fin = None;
                for p in chars.by_ref() {
                    if ('\u{40}'..='\u{7e}').contains(&p) {
                        fin = Some(p);
                        break;
                    }
                    params.push(p);
                }
                if fin == Some('m') {
                    flush(&mut text, style, &mut out);
                    apply(&mut style, &params);
                }
            }
            Some(']') => {
                // OSC: up to BEL or ESC \.
                for p in chars.by_ref() {
                    if p == '\u{7}' || p == '\\' {
                        break;
                    }
                }
            }
            _ => {
                chars.next();
            }
        }
    }
    flush(&mut text, style, &mut out);
    out
}

impl Style {
    /// CSS classes for the named colours and the text attributes.
    pub fn class(&self) -> String {
        let mut c = Vec::new();
        if let Some(Color::Named(n)) = self.fg {
            c.push(format!("ansi-fg{n}"));
        }
        if let Some(Color::Named(n)) = self.bg {
            c.push(format!("ansi-bg{n}"));
        }
        if self.bold {
            c.push("ansi-bold".into());
        }
        if self.dim {
            c.push("ansi-dim".into());
        }
        if self.italic {
            c.push("ansi-italic".into());
        }
        if self.underline {
            c.push("ansi-underline".into());
        }
        c.join(" ")
    }

    /// Inline colours for the 256-colour and true-colour codes (numbers only, never text).
    pub fn css(&self) -> String {
        let mut s = String::new();
        if let Some(Color::Rgb(r, g, b)) = self.fg {
            s.push_str(&format!("color:#{r:02x}{g:02x}{b:02x};"));
        }
        if let Some(Color::Rgb(r, g, b)) = self.bg {
            s.push_str(&format!("background-color:#{r:02x}{g:02x}{b:02x};"));
        }
        s
    }
}
