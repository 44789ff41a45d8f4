//! The UI: the `frontend` crate → wasm32 → wasm-bindgen (as a library, no CLI to install) →
//! wasm-opt when we can get it → `target/ui/`, together with `static/` and npm assets.
//!
//! `target/ui/` is only rewritten where a file's bytes changed: the release server embeds
//! that folder, and touching an unchanged file would make cargo rebuild it.

use std::{
    collections::BTreeMap,
    fs,
    io::{ErrorKind, Write},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Instant,
};

use anyhow::{bail, Context, Result};
use wasm_bindgen_cli_support::Bindgen;

use crate::{cargo, root, say, status, target_dir};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// binaryen from npm, a wasm build that runs on node. Never Debian's `binaryen` package:
/// its wasm-opt (v108) predates the features rustc now emits and corrupts the module.
const BINARYEN: (&str, &str) = ("binaryen", "132.0.0");
/// The wasm features rustc enables by default for wasm32-unknown-unknown; wasm-opt must
/// accept them to validate the module, and may use no others. Each as wasm-opt's flag and as
/// binaryen.js' `binaryen.Features` name (for the chunks, see [`optimise_chunks`]).
const WASM_FEATURES: &[(&str, &str)] = &[
    ("--enable-bulk-memory", "BulkMemory"),
    ("--enable-bulk-memory-opt", "BulkMemoryOpt"),
    ("--enable-nontrapping-float-to-int", "NontrappingFPToInt"),
    ("--enable-reference-types", "ReferenceTypes"),
    ("--enable-sign-ext", "SignExt"),
    ("--enable-mutable-globals", "MutableGlobals"),
    ("--enable-multivalue", "Multivalue"),
];
/// Change when the steps after cargo change, so an unchanged wasm is bound afresh.
const STEPS: &str = "wasm_split_cli_support 0.2.4; wasm-bindgen 0.2.130 --target web; \
     wasm-opt -Oz binaryen 132; chunks: binaryen.js -Oz (wasm_opt_chunks.mjs v1)";
/// Optimises the split chunks like `wasm-opt -Oz`, all in one node process; see the script.
const WASM_OPT_CHUNKS: &str = include_str!("wasm_opt_chunks.mjs");
/// The fetch the chunk loader uses; see [`chunk_loader`].
const CHUNK_FETCH: &str = include_str!("chunk_fetch.js");

/// A file in the target directory whose presence says `<target>/ui` gained files since the
/// release server last compiled. rust-embed lists the folder when the server compiles and
/// cargo then tracks only the files it embedded, so an added file alone would not make
/// cargo rebuild the server; `cargo xtask build` cleans it first while this file exists.
/// (A file rather than a flag, so that an interrupted build still remembers.)
pub const UI_GREW: &str = "ui-grew";

/// Builds the UI into `<target>/ui` and returns that path.
pub fn build_ui() -> Result<PathBuf> {
    ensure_wasm_target()?;
    let target = target_dir()?;
    say!("building the frontend ({WASM_TARGET}, profile wasm-release)");
    status(cargo().args([
        "build",
        "-p",
        "frontend",
        "--target",
        WASM_TARGET,
        "--profile",
        "wasm-release",
    ]))?;
    let wasm = target.join(WASM_TARGET).join("wasm-release/berth-ui.wasm");
    let bound = bind(&wasm, &target.join("ui-build"))?;

    let mut files = BTreeMap::new();
    collect(&bound, Path::new(""), &mut files)?;
    collect(&root().join("static"), Path::new(""), &mut files)?;
    files.remove(Path::new(NPM_ASSETS));
    npm_assets(&mut files)?;

    let ui = target.join("ui");
    let changed = sync(&files, &ui)?;
    say!("UI ready in {} (files changed: {changed})", ui.display());
    report_sizes(&files);
    Ok(ui)
}

fn ensure_wasm_target() -> Result<()> {
    let out = match Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
    {
        Ok(out) => out,
        Err(err) if err.kind() == ErrorKind::NotFound => {
            // No rustup: fine if this toolchain ships the target's standard library anyway.
            let sysroot = Command::new("rustc")
                .args(["--print", "sysroot"])
                .output()?;
            let sysroot = String::from_utf8_lossy(&sysroot.stdout).trim().to_string();
            if Path::new(&sysroot)
                .join("lib/rustlib")
                .join(WASM_TARGET)
                .is_dir()
            {
                return Ok(());
            }
            bail!("the frontend needs the Rust target {WASM_TARGET}, and rustup is not installed to add it; install rustup, then run `rustup target add {WASM_TARGET}`");
        }
        Err(err) => return Err(err).context("could not run `rustup`"),
    };
    let installed = String::from_utf8_lossy(&out.stdout);
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        return Ok(());
    }
    say!("adding the Rust target {WASM_TARGET}");
    status(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// Splits `wasm` at the frontend's `#[wasm_split]` functions (`frontend/src/lazy.rs`) into a
/// main module and one chunk per page group (plus chunks of code groups share), binds the main module into `work/bindgen/`
/// (berth.js, berth_bg.wasm, snippets) next to the chunks and their loader
/// (`__wasm_split.js`), then optimises every module. Skipped when the wasm is byte-for-byte
/// the last one bound.
fn bind(wasm: &Path, work: &Path) -> Result<PathBuf> {
    let input = fs::read(wasm).with_context(|| format!("could not read {}", wasm.display()))?;
    let out = work.join("bindgen");
    let (last_input, last_steps, optimised, chunks_optimised) = (
        work.join("input.wasm"),
        work.join("steps"),
        work.join("optimised"),
        work.join("chunks-optimised"),
    );
    let same = fs::read(&last_input).is_ok_and(|last| last == input)
        && fs::read_to_string(&last_steps).is_ok_and(|steps| steps == STEPS)
        && out.join("berth_bg.wasm").is_file();
    if same {
        say!("the wasm is unchanged; reusing its bindings");
    } else {
        let _ = fs::remove_dir_all(work);
        fs::create_dir_all(work)?;
        say!("splitting {} at its page groups", wasm.display());
        let split = work.join("split");
        let main = split.join("main.wasm");
        let mut opts = wasm_split_cli_support::Options::new(&input);
        opts.output_dir = &split;
        opts.main_out_path = &main;
        opts.link_name = SPLIT_JS_IMPORT;
        // The loader imports `initSync` from the bound main module, served next to it.
        opts.main_module = "./berth.js";
        let chunks = wasm_split_cli_support::transform(opts)
            .map_err(|err| anyhow::anyhow!("{err:?}"))
            .context("splitting the wasm failed")?
            .split_modules;
        say!("binding the main module with wasm-bindgen");
        Bindgen::new()
            .input_path(&main)
            .web(true)?
            // The chunks import the function table, the stack pointer... from the main
            // module under the names the linker gave them.
            .keep_lld_exports(true)
            .remove_name_section(true)
            .remove_producers_section(true)
            .out_name("berth")
            .generate(&out)
            .context(
                "wasm-bindgen failed; xtask's wasm-bindgen-cli-support must be the same \
                 version as the frontend's wasm-bindgen (see xtask/Cargo.toml)",
            )?;
        for chunk in &chunks {
            let name = chunk.file_name().context("a split module without a name")?;
            fs::copy(chunk, out.join(name))
                .with_context(|| format!("could not copy {}", chunk.display()))?;
        }
        fs::write(&last_steps, STEPS)?;
        fs::write(&last_input, &input)?;
    }
    // Written on every build, so a change to chunk_fetch.js alone is picked up.
    fs::write(
        out.join(SPLIT_JS),
        chunk_loader(&work.join("split").join(SPLIT_JS))?,
    )?;
    // Each retried on every build until it succeeds once for this wasm. The main module with
    // wasm-opt; the chunks (~190) with binaryen.js in one node process, as one wasm-opt run
    // per chunk would add minutes to every build.
    if !optimised.exists() && optimise(&out.join("berth_bg.wasm")) {
        fs::write(&optimised, "")?;
    }
    if !chunks_optimised.exists() && optimise_chunks(&out, work) {
        fs::write(&chunks_optimised, "")?;
    }
    Ok(out)
}

/// The loader of the split chunks, next to berth.js, which imports it (by a relative path:
/// a bare name would not resolve in the browser).
const SPLIT_JS: &str = "__wasm_split.js";
const SPLIT_JS_IMPORT: &str = "./__wasm_split.js";

/// The splitter's loader with our fetch (`chunk_fetch.js`: errors on a bad status, aborts a
/// stalled download) in place of the plain `fetch` it uses for every chunk.
fn chunk_loader(path: &Path) -> Result<String> {
    let js =
        fs::read_to_string(path).with_context(|| format!("could not read {}", path.display()))?;
    const CALL: &str = "fetch(new URL(";
    if !js.contains(CALL) {
        bail!(
            "{} has no `{CALL}`: the splitter's loader changed, update chunk_loader",
            path.display()
        );
    }
    let js = js.replace(CALL, "berthChunkFetch(new URL(");
    Ok(format!("{CHUNK_FETCH}\n{js}"))
}

/// Runs wasm-opt -Oz in place; false (and the file untouched) when it is unavailable or fails.
fn optimise(wasm: &Path) -> bool {
    let Some(wasm_opt) = wasm_opt() else {
        return false;
    };
    let tmp = wasm.with_extension("opt.wasm");
    say!(
        "optimising {} with wasm-opt -Oz",
        wasm.file_name().unwrap_or_default().to_string_lossy()
    );
    let ok = Command::new(&wasm_opt)
        .arg("-Oz")
        .args(WASM_FEATURES.iter().map(|(flag, _)| flag))
        .arg(wasm)
        .arg("-o")
        .arg(&tmp)
        .status()
        .is_ok_and(|s| s.success());
    let before = fs::metadata(wasm).map(|m| m.len()).unwrap_or(0);
    if ok && fs::rename(&tmp, wasm).is_ok() {
        let after = fs::metadata(wasm).map(|m| m.len()).unwrap_or(0);
        say!("wasm-opt: {} → {}", kib(before), kib(after));
        true
    } else {
        let _ = fs::remove_file(&tmp);
        say!("wasm-opt failed; keeping the unoptimised wasm");
        false
    }
}

/// Optimises every split chunk in `dir` (each `.wasm` but the main `berth_bg.wasm`) in place
/// with `wasm_opt_chunks.mjs`, written into `work`: binaryen.js' `-Oz` in one node process.
/// A chunk is rewritten only when its optimised module validates and is smaller; its
/// exports, and the imports it keeps, are unchanged, so it still links to the main module.
/// False when node or binaryen is unavailable or the script fails.
fn optimise_chunks(dir: &Path, work: &Path) -> bool {
    let Some(wasm_opt) = wasm_opt() else {
        return false;
    };
    // <prefix>/node_modules/.bin/wasm-opt → <prefix>/node_modules/binaryen/index.js
    let Some(binaryen) = wasm_opt
        .parent()
        .and_then(Path::parent)
        .map(|modules| modules.join(BINARYEN.0).join("index.js"))
    else {
        return false;
    };
    let mut chunks: Vec<PathBuf> = match fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(|entry| Some(entry.ok()?.path()))
            .filter(|path| {
                path.extension().is_some_and(|ext| ext == "wasm")
                    && path.file_name().is_some_and(|name| name != "berth_bg.wasm")
            })
            .collect(),
        Err(_) => return false,
    };
    if chunks.is_empty() {
        return true;
    }
    chunks.sort();
    let script = work.join("wasm_opt_chunks.mjs");
    if fs::write(&script, WASM_OPT_CHUNKS).is_err() {
        return false;
    }
    let features: Vec<&str> = WASM_FEATURES.iter().map(|(_, name)| *name).collect();
    say!(
        "optimising {} lazy wasm modules with binaryen.js -Oz (one node process)",
        chunks.len()
    );
    let started = Instant::now();
    let out = Command::new("node")
        .arg(&script)
        .arg(&binaryen)
        .arg(features.join(","))
        .args(&chunks)
        .stderr(Stdio::inherit())
        .output();
    match out {
        Ok(out) if out.status.success() => {
            let summary = String::from_utf8_lossy(&out.stdout);
            say!(
                "{} in {:.1} s",
                summary.trim(),
                started.elapsed().as_secs_f64()
            );
            true
        }
        _ => {
            say!("optimising the lazy wasm modules failed; keeping them unoptimised");
            false
        }
    }
}

/// `<target>/npm/node_modules/.bin/wasm-opt`, installed from npm when missing.
fn wasm_opt() -> Option<PathBuf> {
    let prefix = target_dir().ok()?.join("npm");
    let bin = prefix.join("node_modules/.bin/wasm-opt");
    let (name, version) = BINARYEN;
    if !bin.exists() || npm_version(&prefix, name).as_deref() != Some(version) {
        say!("installing wasm-opt from npm ({name}@{version})");
        if let Err(err) = npm_install(&prefix, &[format!("{name}@{version}")]) {
            say!("skipping wasm-opt: {err:#}");
            return None;
        }
    }
    bin.exists().then_some(bin)
}

/// The manifest of third-party browser files, in `static/`; see [`npm_assets`].
const NPM_ASSETS: &str = "npm-assets.txt";

/// Adds third-party browser files from the npm registry, as listed in `static/npm-assets.txt`,
/// one per line: `PACKAGE@VERSION PATH-IN-PACKAGE DEST-UNDER-UI`, e.g.
/// `@xterm/xterm@5.5.0 lib/xterm.js vendor/xterm.js` (`#` starts a comment).
/// Nothing to do while the file does not exist.
fn npm_assets(files: &mut BTreeMap<PathBuf, Vec<u8>>) -> Result<()> {
    let list = root().join("static").join(NPM_ASSETS);
    let Ok(text) = fs::read_to_string(&list) else {
        return Ok(());
    };
    let mut assets = Vec::new();
    for line in text
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
    {
        let fields: Vec<&str> = line.split_whitespace().collect();
        match fields[..] {
            [] => continue,
            [spec, src, dest] => match spec.rsplit_once('@') {
                Some((name, version)) if !name.is_empty() => {
                    assets.push((spec, name, version, src, dest))
                }
                _ => bail!("{}: `{spec}` needs an exact @VERSION", list.display()),
            },
            _ => bail!(
                "{}: expected `PACKAGE@VERSION SRC DEST`, got `{line}`",
                list.display()
            ),
        }
    }
    let prefix = target_dir()?.join("npm");
    let stale: Vec<String> = assets
        .iter()
        .filter(|(_, name, version, ..)| npm_version(&prefix, name).as_deref() != Some(*version))
        .map(|(spec, ..)| spec.to_string())
        .collect();
    if !stale.is_empty() {
        say!("installing npm packages: {}", stale.join(" "));
        npm_install(&prefix, &stale)?;
    }
    for (_, name, _, src, dest) in assets {
        let path = prefix.join("node_modules").join(name).join(src);
        let bytes =
            fs::read(&path).with_context(|| format!("could not read {}", path.display()))?;
        files.insert(PathBuf::from(dest), bytes);
    }
    Ok(())
}

fn npm_install(prefix: &Path, specs: &[String]) -> Result<()> {
    fs::create_dir_all(prefix)?;
    status(
        Command::new("npm")
            .args([
                "install",
                "--no-audit",
                "--no-fund",
                "--save-exact",
                "--prefix",
            ])
            .arg(prefix)
            .args(specs),
    )
}

/// The version of an installed npm package under `prefix`, from its package.json.
fn npm_version(prefix: &Path, name: &str) -> Option<String> {
    let path = prefix.join("node_modules").join(name).join("package.json");
    let json: serde_json::Value = serde_json::from_slice(&fs::read(path).ok()?).ok()?;
    Some(json["version"].as_str()?.to_string())
}

/// Reads every file under `dir` (following symlinks) into `files`, keyed by path under `prefix`.
fn collect(dir: &Path, prefix: &Path, files: &mut BTreeMap<PathBuf, Vec<u8>>) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(err).with_context(|| format!("could not read {}", dir.display())),
    };
    for entry in entries {
        let entry = entry?;
        let (path, rel) = (entry.path(), prefix.join(entry.file_name()));
        if fs::metadata(&path)?.is_dir() {
            collect(&path, &rel, files)?;
        } else {
            files.insert(rel, fs::read(&path)?);
        }
    }
    Ok(())
}

/// Makes `ui` hold exactly `files`, writing only what differs; returns how many changed.
/// Notes in [`UI_GREW`] when a file was added.
fn sync(files: &BTreeMap<PathBuf, Vec<u8>>, ui: &Path) -> Result<usize> {
    let mut existing = BTreeMap::new();
    collect(ui, Path::new(""), &mut existing)?;
    if files.keys().any(|rel| !existing.contains_key(rel)) {
        fs::write(target_dir()?.join(UI_GREW), "")?;
    }
    let mut changed = 0;
    for (rel, bytes) in files {
        if existing.get(rel) != Some(bytes) {
            let path = ui.join(rel);
            fs::create_dir_all(path.parent().expect("under ui"))?;
            fs::write(&path, bytes)
                .with_context(|| format!("could not write {}", path.display()))?;
            changed += 1;
        }
    }
    for rel in existing.keys().filter(|rel| !files.contains_key(*rel)) {
        fs::remove_file(ui.join(rel))?;
        changed += 1;
    }
    Ok(changed)
}

/// What a browser downloads: each file's size and its gzip'd size. The split modules (every
/// `.wasm` but the main `berth_bg.wasm`) load with their pages, and `vendor/` (xterm.js) with
/// the first terminal: each summed on a line of its own, apart from what a first load fetches.
fn report_sizes(files: &BTreeMap<PathBuf, Vec<u8>>) {
    let (mut raw, mut gz, mut lazy, mut lazy_gz, mut lazy_n) = (0, 0, 0, 0, 0);
    let (mut vendor, mut vendor_gz) = (0, 0);
    for (rel, bytes) in files {
        let ext = rel.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "wasm" | "js" | "css") {
            continue;
        }
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zipped = enc
            .write_all(bytes)
            .and_then(|()| enc.finish())
            .map_or(0, |v| v.len()) as u64;
        if ext == "wasm" && rel != Path::new("berth_bg.wasm") {
            lazy += bytes.len() as u64;
            lazy_gz += zipped;
            lazy_n += 1;
            continue;
        }
        say!(
            "  {:<28} {:>10} {:>10} gzip",
            rel.display(),
            kib(bytes.len() as u64),
            kib(zipped)
        );
        if rel.starts_with("vendor") {
            vendor += bytes.len() as u64;
            vendor_gz += zipped;
        } else {
            raw += bytes.len() as u64;
            gz += zipped;
        }
    }
    say!(
        "  {:<28} {:>10} {:>10} gzip",
        "first load (wasm + js + css)",
        kib(raw),
        kib(gz)
    );
    say!(
        "  {:<28} {:>10} {:>10} gzip",
        "+ vendor/ (first terminal)",
        kib(vendor),
        kib(vendor_gz)
    );
    say!(
        "  {:<28} {:>10} {:>10} gzip",
        format!("+ {lazy_n} lazy wasm modules"),
        kib(lazy),
        kib(lazy_gz)
    );
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}
