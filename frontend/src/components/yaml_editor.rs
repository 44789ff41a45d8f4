//! A compose file editor: a plain `<textarea>` over a highlighted copy of its text, with line
//! numbers that mark the lines the server found problems on.
//!
//! The highlighted copy is built as spans from the text (never `inner_html`), so whatever a
//! file holds is only ever text to the browser. The textarea grows with its content and
//! the whole editor scrolls as one, so the two layers cannot drift apart.

use leptos::prelude::*;
use wire::ComposeProblem;

/// How a piece of a line is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tok {
    Plain,
    Key,
    Punct,
    Str,
    Lit,
    Comment,
}

impl Tok {
    fn class(self) -> &'static str {
        match self {
            Tok::Plain => "y-plain",
            Tok::Key => "y-key",
            Tok::Punct => "y-punct",
            Tok::Str => "y-str",
            Tok::Lit => "y-lit",
            Tok::Comment => "y-comment",
        }
    }
}

/// Split a YAML line into coloured pieces: indentation, `- `, `key:`, a value, `# comment`.
/// A small block-style tokenizer: it only colours, it never decides what the file means.
pub fn tokens(line: &str) -> Vec<(Tok, String)> {
    let mut out = Vec::new();
    let indent_len = line.len() - line.trim_start().len();
    out.push((Tok::Plain, line[..indent_len].to_owned()));
    let mut rest = &line[indent_len..];
    if rest.starts_with('#') {
        out.push((Tok::Comment, rest.to_owned()));
        return out;
    }
    while let Some(r) = rest.strip_prefix("- ") {
        out.push((Tok::Punct, "- ".into()));
        rest = r;
    }
    // `key:` (followed by a space or the end of the line).
    if let Some(colon) = key_end(rest) {
        out.push((Tok::Key, rest[..colon].to_owned()));
        out.push((Tok::Punct, ":".into()));
        rest = &rest[colon + 1..];
    }
    // A trailing comment: ` #` outside quotes.
    let (value, comment) = split_comment(rest);
    let trimmed = value.trim();
    let kind = if trimmed.starts_with('"') || trimmed.starts_with('\'') {
        Tok::Str
    } else if matches!(trimmed, "true" | "false" | "null" | "~" | "yes" | "no")
        || trimmed.parse::<f64>().is_ok()
    {
        Tok::Lit
    } else if trimmed.starts_with(['{', '[', '|', '>']) {
        Tok::Punct
    } else {
        Tok::Plain
    };
    if !value.is_empty() {
        out.push((kind, value.to_owned()));
    }
    if !comment.is_empty() {
        out.push((Tok::Comment, comment.to_owned()));
    }
    out
}

fn key_end(s: &str) -> Option<usize> {
    let quoted = s.starts_with('"') || s.starts_with('\'');
    for (i, c) in s.char_indices() {
        match c {
            ':' if s[i + 1..].is_empty() || s[i + 1..].starts_with(' ') => return Some(i),
            '#' | '{' | '[' if i == 0 => return None,
            ' ' if !quoted && s[..i].trim().is_empty() => return None,
            _ => {}
        }
    }
    None
}

fn split_comment(s: &str) -> (&str, &str) {
    let mut quote: Option<char> = None;
    let mut prev = ' ';
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if prev == ' ' => return (&s[..i], &s[i..]),
            _ => {}
        }
        prev = c;
    }
    (s, "")
}

/// The editor. `problems` come from `POST /api/stacks/validate`; their lines are marked.
#[component]
pub fn YamlEditor(
    text: RwSignal<String>,
    #[prop(into)] problems: Signal<Vec<ComposeProblem>>,
    #[prop(into, optional)] label: String,
    /// The textarea's test id (default `compose-editor`).
    #[prop(optional)]
    testid: Option<&'static str>,
    /// Plain text without YAML colours (a Dockerfile).
    #[prop(optional)]
    plain: bool,
) -> impl IntoView {
    let box_ref = NodeRef::<leptos::html::Div>::new();
    // Long lines scroll the editor sideways; once the caret is back within the visible
    // width (a new line, a click on a short one), the start of the lines comes back
    // into view instead of staying scrolled right.
    let unscroll = move |ev: leptos::ev::Event| {
        use wasm_bindgen::JsCast;
        let (Some(el), Some(area)) = (
            box_ref.get_untracked(),
            ev.target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok()),
        ) else {
            return;
        };
        let caret = area.selection_start().ok().flatten().unwrap_or(0) as usize;
        let value = area.value();
        let before: String = value.chars().take(caret).collect();
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count());
        // About 8 px a character at 13 px monospace, and the gutter.
        if (column as i32 + 8) * 8 + 48 < el.client_width() {
            el.set_scroll_left(0);
        }
    };
    let lines =
        Memo::new(move |_| text.with(|t| t.split('\n').map(str::to_owned).collect::<Vec<_>>()));
    let bad_lines = Memo::new(move |_| {
        problems.with(|ps| ps.iter().filter_map(|p| p.line).collect::<Vec<u32>>())
    });
    let rows = move || lines.with(Vec::len).max(8) + 1;
    let cols = move || lines.with(|ls| ls.iter().map(|l| l.chars().count()).max().unwrap_or(0)) + 4;

    view! {
        <div class="yaml-editor" node_ref=box_ref>
            <div class="yaml-gutter" aria-hidden="true">
                {move || {
                    let bad = bad_lines.get();
                    (1..=lines.with(Vec::len))
                        .map(|n| {
                            let is_bad = bad.contains(&(n as u32));
                            view! {
                                <div class="yaml-ln" class:bad=is_bad data-testid=if is_bad { "bad-line" } else { "line-number" }>
                                    {n}
                                </div>
                            }
                        })
                        .collect_view()
                }}
            </div>
            <div class="yaml-area">
                <pre class="yaml-highlight" aria-hidden="true">
                    {move || {
                        lines
                            .get()
                            .into_iter()
                            .map(|line| {
                                let spans = if plain {
                                    view! { <span>{line}</span> }.into_any()
                                } else {
                                    tokens(&line)
                                        .into_iter()
                                        .map(|(tok, s)| view! { <span class=tok.class()>{s}</span> })
                                        .collect_view()
                                        .into_any()
                                };
                                view! { <div class="yaml-line">{spans}"\u{200b}"</div> }
                            })
                            .collect_view()
                    }}
                </pre>
                <textarea
                    class="yaml-input"
                    data-testid=testid.unwrap_or("compose-editor")
                    aria-label=label
                    spellcheck="false"
                    autocomplete="off"
                    wrap="off"
                    rows=rows
                    cols=cols
                    prop:value=move || text.get()
                    on:input=move |ev| {
                        text.set(event_target_value(&ev));
                        unscroll(ev);
                    }
                    on:keyup=move |ev| unscroll(ev.into())
                    on:click=move |ev| unscroll(ev.into())
                ></textarea>
            </div>
        </div>
    }
}

/// The problems as a list under the editor.
#[component]
pub fn ProblemList(
    #[prop(into)] problems: Signal<Vec<ComposeProblem>>,
    line_word: &'static str,
) -> impl IntoView {
    view! {
        <ul class="problems" data-testid="compose-problems">
            {move || {
                problems
                    .get()
                    .into_iter()
                    .map(|p| {
                        let at = p.line.map(|l| format!("{line_word} {l}: ")).unwrap_or_default();
                        view! {
                            <li class=format!("problem problem-{}", if p.kind == "unsupported" { "unsupported" } else { "invalid" })
                                data-testid="compose-problem">
                                <strong>{at}</strong>
                                {p.message}
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_split_into_coloured_pieces() {
        let kinds = |l: &str| tokens(l).into_iter().collect::<Vec<_>>();
        let t = kinds("  image: \"nginx\" # web");
        assert_eq!(t[1], (Tok::Key, "image".into()));
        assert_eq!(t[3], (Tok::Str, " \"nginx\" ".into()));
        assert_eq!(t[4], (Tok::Comment, "# web".into()));
        let t = kinds("    - 80:80");
        assert_eq!(t[1], (Tok::Punct, "- ".into()));
        assert_eq!(t[2], (Tok::Plain, "80:80".into()));
        let t = kinds("# all");
        assert_eq!(t[1], (Tok::Comment, "# all".into()));
        // Whatever the text, the pieces put back together are the line.
        for l in ["a: <script>x</script>", "  - \"a#b\" # c", "k:", ""] {
            let joined: String = tokens(l).into_iter().map(|(_, s)| s).collect();
            assert_eq!(joined, l);
        }
    }
}
