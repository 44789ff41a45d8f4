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
    process::Command,
};

use anyhow::{bail, Context, Result};
use wasm_bindgen_cli_support::Bindgen;

use crate::{cargo, root, say, status, target_dir};

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// binaryen from npm, a wasm build that runs on node. Never Debian's `binaryen` package:
/// its wasm-opt (v108) predates the features rustc now emits and corrupts the module.
const BINARYEN: (&str, &str) = ("binaryen", "132.0.0");
/// The wasm features rustc enables by default for wasm32-unknown-unknown; wasm-opt must
/// accept them to validate the module, and may use no others.
const WASM_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-bulk-memory-opt",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
    "--enable-mutable-globals",
    "--enable-multivalue",
];
/// Change when the steps after cargo change, so an unchanged wasm is bound afresh.
const STEPS: &str = "wasm-bindgen 0.2.130 --target web; wasm-opt -Oz binaryen 132";

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

/// Binds `wasm` into `work/bindgen/` (berth.js, berth_bg.wasm, snippets), then optimises it.
/// Skipped when the wasm is byte-for-byte the last one bound.
fn bind(wasm: &Path, work: &Path) -> Result<PathBuf> {
    let input = fs::read(wasm).with_context(|| format!("could not read {}", wasm.display()))?;
    let out = work.join("bindgen");
    let (last_input, last_steps, optimised) = (
        work.join("input.wasm"),
        work.join("steps"),
        work.join("optimised"),
    );
    let same = fs::read(&last_input).is_ok_and(|last| last == input)
        && fs::read_to_string(&last_steps).is_ok_and(|steps| steps == STEPS)
        && out.join("berth_bg.wasm").is_file();
    if same {
        say!("the wasm is unchanged; reusing its bindings");
    } else {
        say!("binding {} with wasm-bindgen", wasm.display());
        let _ = fs::remove_dir_all(work);
        fs::create_dir_all(work)?;
        Bindgen::new()
            .input_path(wasm)
            .web(true)?
            .remove_name_section(true)
            .remove_producers_section(true)
            .out_name("berth")
            .generate(&out)
            .context(
                "wasm-bindgen failed; xtask's wasm-bindgen-cli-support must be the same \
                 version as the frontend's wasm-bindgen (see xtask/Cargo.toml)",
            )?;
        fs::write(&last_steps, STEPS)?;
        fs::write(&last_input, &input)?;
    }
    // Retried on every build until it succeeds once for this wasm.
    if !optimised.exists() && optimise(&out.join("berth_bg.wasm")) {
        fs::write(&optimised, "")?;
    }
    Ok(out)
}

/// Runs wasm-opt -Oz in place; false (and the file untouched) when it is unavailable or fails.
fn optimise(wasm: &Path) -> bool {
    let Some(wasm_opt) = wasm_opt() else {
        return false;
    };
    let tmp = wasm.with_extension("opt.wasm");
    say!("optimising with wasm-opt -Oz");
    let ok = Command::new(&wasm_opt)
        .arg("-Oz")
        .args(WASM_FEATURES)
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

/// What a browser downloads: each file's size and its gzip'd size.
fn report_sizes(files: &BTreeMap<PathBuf, Vec<u8>>) {
    let (mut raw, mut gz) = (0, 0);
    for (rel, bytes) in files {
        let ext = rel.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !matches!(ext, "wasm" | "js" | "css") {
            continue;
        }
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        let zipped = enc
            .write_all(bytes)
            .and_then(|()| enc.finish())
            .map_or(0, |v| v.len());
        say!(
            "  {:<28} {:>10} {:>10} gzip",
            rel.display(),
            kib(bytes.len() as u64),
            kib(zipped as u64)
        );
        raw += bytes.len() as u64;
        gz += zipped as u64;
    }
    say!(
        "  {:<28} {:>10} {:>10} gzip",
        "wasm + js + css",
        kib(raw),
        kib(gz)
    );
}

fn kib(bytes: u64) -> String {
    format!("{:.1} KiB", bytes as f64 / 1024.0)
}
