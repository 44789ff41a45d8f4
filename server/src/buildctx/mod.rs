//! Build contexts: what a user uploads (a tar, a tar.gz, or files and a Dockerfile text from
//! the browser) becomes the tar the daemon builds from, with `.dockerignore` applied first.
//!
//! The upload flows through a blocking task (the `tar` crate reads and writes `std::io`)
//! between two bounded channels: request body → [`Msg`]s → filter → tar chunks → daemon.
//! Nothing is collected: each side waits for the other.
//!
//! One thing a stream cannot know is whether a `.dockerignore` is still to come. Entries seen
//! before it (or before the end, when there is none) are held back: in memory up to
//! [`HOLD_IN_MEMORY`], then in an unlinked temporary file in the data dir. The browser app
//! sends `.dockerignore` and the Dockerfile first, so its uploads never wait; a hand-made tar
//! that starts with them (`tar -cf ctx.tar .dockerignore Dockerfile src`) doesn't either.

pub mod ignore;
mod spool;

use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::sync::mpsc;

use ignore::{Matcher, Walk};
use spool::Spool;

/// Held entries stay in memory up to this size; the rest goes to a temporary file.
pub const HOLD_IN_MEMORY: usize = 16 << 20;
/// A `.dockerignore` or a Dockerfile text larger than this is refused.
const MAX_TEXT: u64 = 1 << 20;
/// Output chunk size.
const CHUNK: usize = 64 << 10;

/// What the request side sends to the filter, in upload order.
pub enum Msg {
    /// A file whose whole content is known (the editor's Dockerfile): always sent first.
    Text {
        path: String,
        data: String,
    },
    /// A tar or gzip tar follows, as `Chunk`s until `End`.
    Archive,
    /// One file follows, as `Chunk`s until `End`.
    File {
        path: String,
    },
    Chunk(Bytes),
    End,
    /// The upload failed (client gone, bad multipart): stop with this message.
    Failed(String),
}

/// How to filter.
pub struct Options {
    /// The Dockerfile's path in the context (`dockerfile=`), always sent.
    pub dockerfile: String,
    /// Where held entries spill to disk.
    pub spool_dir: PathBuf,
}

/// The running filter: send [`Msg`]s to `input`, read tar chunks from `output`. When the
/// filter fails, `error` says why in words a person can act on.
pub struct Filter {
    pub input: mpsc::Sender<Msg>,
    pub output: mpsc::Receiver<io::Result<Bytes>>,
    pub error: Arc<Mutex<Option<String>>>,
}

/// Start the filter on a blocking thread.
pub fn spawn(opts: Options) -> Filter {
    let (in_tx, in_rx) = mpsc::channel::<Msg>(8);
    let (out_tx, out_rx) = mpsc::channel::<io::Result<Bytes>>(8);
    let error = Arc::new(Mutex::new(None));
    let error_slot = error.clone();
    tokio::task::spawn_blocking(move || {
        let writer = ChanWriter {
            tx: out_tx.clone(),
            buf: Vec::with_capacity(CHUNK),
            ready: false,
        };
        let mut run = Run {
            rx: in_rx,
            out: tar::Builder::new(writer),
            opts,
            matcher: None,
            held: None,
            injected: Vec::new(),
            entries: 0,
        };
        let result = run.all();
        let result = result.and_then(|()| {
            if run.entries == 0 {
                Err(invalid(
                    "the build context is empty: upload a tar, a tar.gz or files",
                ))
            } else {
                Ok(())
            }
        });
        match result
            .and_then(|()| run.out.into_inner())
            .and_then(|mut w| {
                w.ready = true;
                w.flush()
            }) {
            Ok(()) => {}
            Err(e) => {
                let message = e.to_string();
                if let Ok(mut slot) = error_slot.lock() {
                    *slot = Some(message);
                }
                let _ = out_tx.blocking_send(Err(e));
            }
        }
    });
    Filter {
        input: in_tx,
        output: out_rx,
        error,
    }
}

fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// Tar bytes to the output channel in `CHUNK`s. Nothing leaves before `ready`: the first
/// input entry must have parsed, so a body that is not a tar is refused before the daemon
/// is asked for anything.
struct ChanWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
    ready: bool,
}

impl Write for ChanWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.ready && self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.ready || self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the daemon stopped reading the context",
            )
        })
    }
}

/// Reads the `Chunk`s of one archive or file from the input channel, up to `End`.
struct PartReader<'a> {
    rx: &'a mut mpsc::Receiver<Msg>,
    current: Bytes,
    /// Set once `End` was read; shared so the caller knows after the reader is gone.
    done: &'a std::cell::Cell<bool>,
}

impl Read for PartReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            if self.done.get() {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Msg::Chunk(b)) => self.current = b,
                Some(Msg::End) => self.done.set(true),
                Some(Msg::Failed(why)) => return Err(io::Error::other(why)),
                Some(_) => return Err(invalid("a new part began inside another")),
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the upload ended early",
                    ))
                }
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
}

struct Run {
    rx: mpsc::Receiver<Msg>,
    out: tar::Builder<ChanWriter>,
    opts: Options,
    /// Known once `.dockerignore` was seen, or at the end without one.
    matcher: Option<Matcher>,
    /// Entries waiting for the matcher, as a tar.
    held: Option<tar::Builder<Spool>>,
    /// Paths given as text: the same path in the upload is dropped.
    injected: Vec<String>,
    entries: u64,
}

/// A context path as the daemon and the matcher see it: relative, cleaned, no `./`.
fn context_path(raw: &str) -> io::Result<Option<String>> {
    let cleaned = ignore::clean(raw.trim_start_matches('/'));
    if cleaned == "." {
        return Ok(None);
    }
    if cleaned == ".." || cleaned.starts_with("../") {
        return Err(invalid(format!(
            "the context names a path outside itself: {raw:?}"
        )));
    }
    Ok(Some(cleaned))
}

impl Run {
    fn all(&mut self) -> io::Result<()> {
        while let Some(msg) = self.rx.blocking_recv() {
            match msg {
                Msg::Text { path, data } => {
                    if data.len() as u64 > MAX_TEXT {
                        return Err(invalid(format!("{path} is larger than 1 MiB")));
                    }
                    let Some(path) = context_path(&path)? else {
                        return Err(invalid("the Dockerfile path is empty"));
                    };
                    let mut header = file_header(data.len() as u64);
                    self.out.append_data(&mut header, &path, data.as_bytes())?;
                    self.injected.push(path);
                    self.entries += 1;
                }
                Msg::Archive => self.archive()?,
                Msg::File { path } => {
                    let mut spool = Spool::new(HOLD_IN_MEMORY, self.opts.spool_dir.clone());
                    let done = std::cell::Cell::new(false);
                    let mut part = PartReader {
                        rx: &mut self.rx,
                        current: Bytes::new(),
                        done: &done,
                    };
                    let size = io::copy(&mut part, &mut spool)?;
                    if let Some(path) = context_path(&path)? {
                        let mut header = file_header(size);
                        self.entry(&path, &mut header, None, &mut spool.into_reader()?)?;
                    }
                }
                Msg::Chunk(_) | Msg::End => {
                    return Err(invalid("file data came without a file"));
                }
                Msg::Failed(why) => return Err(io::Error::other(why)),
            }
        }
        // The end: no `.dockerignore` came, so everything held is sent as it is.
        if self.matcher.is_none() {
            self.matcher = Some(Matcher::default());
            self.release()?;
        }
        self.out.get_mut().ready = true;
        Ok(())
    }

    fn archive(&mut self) -> io::Result<()> {
        let done = std::cell::Cell::new(false);
        self.archive_entries(&done)?;
        // A tar ends with zero blocks the reader need not consume: skip to the part's end.
        while !done.get() {
            match self.rx.blocking_recv() {
                Some(Msg::Chunk(_)) => {}
                Some(Msg::End) | None => done.set(true),
                Some(Msg::Failed(why)) => return Err(io::Error::other(why)),
                Some(_) => return Err(invalid("a new part began inside another")),
            }
        }
        Ok(())
    }

    fn archive_entries(&mut self, done: &std::cell::Cell<bool>) -> io::Result<()> {
        let part = PartReader {
            rx: &mut self.rx,
            current: Bytes::new(),
            done,
        };
        let mut reader = BufReader::with_capacity(CHUNK, part);
        let gzip = reader.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        let source: Box<dyn Read + '_> = if gzip {
            Box::new(flate2::bufread::MultiGzDecoder::new(reader))
        } else {
            Box::new(reader)
        };
        let mut archive = tar::Archive::new(source);
        let entries = archive.entries().map_err(not_a_tar)?;
        // Split borrows: the entries borrow the channel through the archive.
        let mut sink = Sink {
            out: &mut self.out,
            opts: &self.opts,
            matcher: &mut self.matcher,
            held: &mut self.held,
            injected: &self.injected,
            entries: &mut self.entries,
        };
        for entry in entries {
            let mut entry = entry.map_err(not_a_tar)?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let Some(path) = context_path(&raw)? else {
                continue;
            };
            let mut header = entry.header().clone();
            let link = entry.link_name()?.map(|l| l.into_owned());
            sink.entry(&path, &mut header, link, &mut entry)?;
        }
        Ok(())
    }

    fn entry(
        &mut self,
        path: &str,
        header: &mut tar::Header,
        link: Option<PathBuf>,
        data: &mut dyn Read,
    ) -> io::Result<()> {
        Sink {
            out: &mut self.out,
            opts: &self.opts,
            matcher: &mut self.matcher,
            held: &mut self.held,
            injected: &self.injected,
            entries: &mut self.entries,
        }
        .entry(path, header, link, data)
    }

    fn release(&mut self) -> io::Result<()> {
        Sink {
            out: &mut self.out,
            opts: &self.opts,
            matcher: &mut self.matcher,
            held: &mut self.held,
            injected: &self.injected,
            entries: &mut self.entries,
        }
        .release()
    }
}

fn not_a_tar(e: io::Error) -> io::Error {
    invalid(format!(
        "the build context is not a tar or tar.gz archive ({e})"
    ))
}

fn file_header(size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(size);
    header.set_mode(0o644);
    header.set_mtime(0);
    header
}

/// The filter's state, borrowed apart from the input channel.
struct Sink<'a> {
    out: &'a mut tar::Builder<ChanWriter>,
    opts: &'a Options,
    matcher: &'a mut Option<Matcher>,
    held: &'a mut Option<tar::Builder<Spool>>,
    injected: &'a [String],
    entries: &'a mut u64,
}

impl Sink<'_> {
    fn entry(
        &mut self,
        path: &str,
        header: &mut tar::Header,
        link: Option<PathBuf>,
        data: &mut dyn Read,
    ) -> io::Result<()> {
        *self.entries += 1;
        // One good entry: the upload is a context, the daemon may start reading.
        self.out.get_mut().ready = true;
        if self.injected.iter().any(|p| p == path) {
            return Ok(());
        }
        if self.matcher.is_none() && path == ".dockerignore" {
            let mut text = String::new();
            data.take(MAX_TEXT + 1)
                .read_to_string(&mut text)
                .map_err(|e| invalid(format!(".dockerignore is not UTF-8 text: {e}")))?;
            if text.len() as u64 > MAX_TEXT {
                return Err(invalid(".dockerignore is larger than 1 MiB"));
            }
            let matcher =
                Matcher::new(&text, &self.opts.dockerfile).map_err(|e| invalid(e.to_string()))?;
            header.set_size(text.len() as u64);
            append(self.out, header, path, link, &mut text.as_bytes())?;
            *self.matcher = Some(matcher);
            return self.release();
        }
        match self.matcher {
            Some(m) => {
                if Walk::new(m).keeps(path) {
                    append(self.out, header, path, link, data)?;
                }
                Ok(())
            }
            None => {
                let held = self.held.get_or_insert_with(|| {
                    tar::Builder::new(Spool::new(HOLD_IN_MEMORY, self.opts.spool_dir.clone()))
                });
                append(held, header, path, link, data)
            }
        }
    }

    /// Send what was held, through the now-known matcher.
    fn release(&mut self) -> io::Result<()> {
        let Some(held) = self.held.take() else {
            return Ok(());
        };
        let Some(matcher) = self.matcher.as_ref() else {
            return Ok(());
        };
        let spool = held.into_inner()?;
        let mut archive = tar::Archive::new(spool.into_reader()?);
        let mut walk = Walk::new(matcher);
        for entry in archive.entries()? {
            let mut entry = entry?;
            let path = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            if walk.keeps(&path) {
                let mut header = entry.header().clone();
                let link = entry.link_name()?.map(|l| l.into_owned());
                append(self.out, &mut header, &path, link, &mut entry)?;
            }
        }
        Ok(())
    }
}

/// Append one entry; links keep their target (long ones through GNU extensions).
fn append<W: Write>(
    out: &mut tar::Builder<W>,
    header: &mut tar::Header,
    path: &str,
    link: Option<PathBuf>,
    data: &mut dyn Read,
) -> io::Result<()> {
    match (header.entry_type(), link) {
        (tar::EntryType::Symlink | tar::EntryType::Link, Some(target)) => {
            header.set_size(0);
            out.append_link(header, path, target)
        }
        _ => out.append_data(header, path, data),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(files: &[(&str, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, text) in files {
            let mut h = file_header(text.len() as u64);
            b.append_data(&mut h, path, text.as_bytes()).unwrap();
        }
        b.into_inner().unwrap()
    }

    async fn run(msgs: Vec<Msg>) -> Result<Vec<String>, String> {
        let dir = tempfile::tempdir().unwrap();
        let mut f = spawn(Options {
            dockerfile: "Dockerfile".into(),
            spool_dir: dir.path().to_owned(),
        });
        let input = f.input.clone();
        tokio::spawn(async move {
            for m in msgs {
                if input.send(m).await.is_err() {
                    break;
                }
            }
        });
        drop(f.input);
        let mut bytes = Vec::new();
        while let Some(chunk) = f.output.recv().await {
            bytes.extend_from_slice(&chunk.map_err(|e| e.to_string())?);
        }
        let mut names = Vec::new();
        for e in tar::Archive::new(bytes.as_slice()).entries().unwrap() {
            names.push(e.unwrap().path().unwrap().display().to_string());
        }
        Ok(names)
    }

    fn archive(bytes: Vec<u8>) -> Vec<Msg> {
        let mut msgs = vec![Msg::Archive];
        // Small chunks, so entries straddle them.
        for c in bytes.chunks(700) {
            msgs.push(Msg::Chunk(Bytes::copy_from_slice(c)));
        }
        msgs.push(Msg::End);
        msgs
    }

    #[tokio::test]
    async fn a_late_dockerignore_still_applies_to_earlier_entries() {
        let tar = tar_of(&[
            ("./secret.txt", "x"),
            ("Dockerfile", "FROM scratch"),
            ("keep.txt", "k"),
            (".dockerignore", "*.txt\n!keep.txt\n"),
            ("other.txt", "o"),
        ]);
        let got = run(archive(tar)).await.unwrap();
        assert_eq!(got, vec![".dockerignore", "Dockerfile", "keep.txt"]);
    }

    #[tokio::test]
    async fn gzip_files_and_editor_dockerfile() {
        let tar = tar_of(&[("Dockerfile", "FROM old"), ("a.log", "l"), ("b", "b")]);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&tar).unwrap();
        let mut msgs = vec![
            Msg::Text {
                path: "Dockerfile".into(),
                data: "FROM new".into(),
            },
            Msg::File {
                path: ".dockerignore".into(),
            },
            Msg::Chunk(Bytes::from_static(b"*.log\n")),
            Msg::End,
        ];
        msgs.extend(archive(gz.finish().unwrap()));
        let got = run(msgs).await.unwrap();
        assert_eq!(got, vec!["Dockerfile", ".dockerignore", "b"]);
    }

    #[tokio::test]
    async fn a_dockerfile_alone_is_a_context() {
        let msgs = vec![Msg::Text {
            path: "Dockerfile".into(),
            data: "FROM scratch".into(),
        }];
        assert_eq!(run(msgs).await.unwrap(), vec!["Dockerfile"]);
    }

    #[tokio::test]
    async fn not_a_tar_is_refused_before_anything_is_sent() {
        let msgs = archive(b"this is plain text, not a tar archive at all".repeat(20));
        let err = run(msgs).await.unwrap_err();
        assert!(err.contains("not a tar"), "{err}");
        let err = run(vec![]).await.unwrap_err();
        assert!(err.contains("empty"), "{err}");
    }

    #[tokio::test]
    async fn paths_outside_the_context_are_refused() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = file_header(1);
        // `append_data` refuses `..`; write the name into the header directly.
        h.as_gnu_mut().unwrap().name[..8].copy_from_slice(b"../evil\0");
        h.set_cksum();
        b.append(&h, &b"x"[..]).unwrap();
        let err = run(archive(b.into_inner().unwrap())).await.unwrap_err();
        assert!(err.contains("outside"), "{err}");
    }
}
