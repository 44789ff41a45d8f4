//! Images the tests run, made locally: the test machine reaches no image registry.
//!
//! `berth-test/busybox:latest` is a one-layer image of the host's static busybox with a
//! symlink for every applet; `CMD ["sh"]`. `berth-test/runtime:latest` is the base the tests
//! build berth's own image on (its Dockerfile's `BASE`): the host's dynamic loader and the C
//! libraries a Rust binary links, nothing else. Made in a second from the host (a Debian
//! rootfs by debootstrap takes over a minute and the network); it runs binaries built on
//! this host, which is all the test needs. Both are imported once and kept in the private
//! daemon's data root, which persists between runs.

use std::{
    env, fs,
    os::unix::fs::{symlink, PermissionsExt},
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use anyhow::{bail, Context, Result};

use crate::{say, status};

/// The image every test may rely on (handed to tests as BERTH_TEST_IMAGE).
pub const TEST_IMAGE: &str = "berth-test/busybox:latest";
/// The base of berth's own image in tests (see the Dockerfile's BASE).
pub const RUNTIME_IMAGE: &str = "berth-test/runtime:latest";
/// Debian's busybox-static; it must be static, because the image has no libc.
const BUSYBOX: &str = "/bin/busybox";

/// Makes sure the test images exist on the daemon at `host`.
pub fn ensure(host: &str) -> Result<()> {
    if has_image(host, TEST_IMAGE)? {
        say!("test image {TEST_IMAGE} is present");
    } else {
        say!("making test image {TEST_IMAGE} from {BUSYBOX}");
        import_busybox(host)?;
    }
    if has_image(host, RUNTIME_IMAGE)? {
        say!("test image {RUNTIME_IMAGE} is present");
    } else {
        say!("making test image {RUNTIME_IMAGE} from the host's C libraries");
        let rootfs = TempDir::new("berth-runtime-rootfs")?;
        runtime_rootfs(&rootfs.0)?;
        import(host, &rootfs.0, RUNTIME_IMAGE, &[])?;
    }
    Ok(())
}

/// What a dynamically linked Rust binary needs at run time: the loader, libc, libm,
/// libgcc_s (and glibc's compatibility stubs), an /etc/passwd and a /tmp.
fn runtime_rootfs(dir: &Path) -> Result<()> {
    const LIBS: &[&str] = &[
        "/lib64/ld-linux-x86-64.so.2",
        "/lib/x86_64-linux-gnu/libc.so.6",
        "/lib/x86_64-linux-gnu/libm.so.6",
        "/lib/x86_64-linux-gnu/libgcc_s.so.1",
        "/lib/x86_64-linux-gnu/libpthread.so.0",
        "/lib/x86_64-linux-gnu/libdl.so.2",
        "/lib/x86_64-linux-gnu/librt.so.1",
    ];
    for lib in LIBS {
        let src = Path::new(lib);
        if !src.exists() {
            continue;
        }
        let dest = dir.join(lib.trim_start_matches('/'));
        fs::create_dir_all(dest.parent().expect("a library has a folder"))?;
        // fs::copy follows the symlinks (libc.so.6 -> ...): the image gets the real files.
        fs::copy(src, &dest).with_context(|| format!("could not copy {lib}"))?;
    }
    let etc = dir.join("etc");
    fs::create_dir_all(&etc)?;
    fs::write(etc.join("passwd"), "root:x:0:0:root:/root:/sbin/nologin\n")?;
    fs::write(etc.join("group"), "root:x:0:\n")?;
    for (name, mode) in [("tmp", 0o1777), ("root", 0o700)] {
        let path = dir.join(name);
        fs::create_dir_all(&path)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

/// Runs one container of the test image, to fail early and clearly when the daemon can
/// answer but not run anything (no cgroups, no overlay, no iptables...).
pub fn smoke_test(host: &str) -> Result<()> {
    let out = Command::new("docker")
        .args([
            "-H",
            host,
            "run",
            "--rm",
            TEST_IMAGE,
            "echo",
            "berth-smoke-ok",
        ])
        .stdin(Stdio::null())
        .output()
        .context("could not run `docker run`")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() || stdout.trim() != "berth-smoke-ok" {
        bail!(
            "the daemon at {host} cannot run a container:\n{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    say!("the daemon runs containers");
    Ok(())
}

pub(crate) fn has_image(host: &str, image: &str) -> Result<bool> {
    let status = Command::new("docker")
        .args(["-H", host, "image", "inspect", image])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .context("could not run `docker` (is docker.io installed?)")?;
    Ok(status.success())
}

fn import_busybox(host: &str) -> Result<()> {
    let rootfs = TempDir::new("berth-busybox-rootfs")?;
    busybox_rootfs(&rootfs.0)?;
    import(host, &rootfs.0, TEST_IMAGE, &["--change", r#"CMD ["sh"]"#])
}

/// `tar | docker import -`: numeric root ownership whoever runs this.
pub(crate) fn import(host: &str, rootfs: &Path, image: &str, changes: &[&str]) -> Result<()> {
    let mut tar = Command::new("tar")
        .arg("-C")
        .arg(rootfs)
        .args(["--numeric-owner", "--owner=0", "--group=0", "-c", "."])
        .stdout(Stdio::piped())
        .spawn()
        .context("could not run `tar`")?;
    let tar_out = tar.stdout.take().expect("stdout is piped");
    let imported = status(
        Command::new("docker")
            .args(["-H", host, "import"])
            .args(changes)
            .args(["-", image])
            .stdin(tar_out)
            .stdout(Stdio::null()),
    );
    let tarred = tar.wait().context("waiting for tar")?;
    imported?;
    if !tarred.success() {
        bail!("`tar` of the {image} rootfs failed ({tarred})");
    }
    Ok(())
}

/// bin/busybox, a symlink per applet, and the few files a shell and `id` expect.
fn busybox_rootfs(dir: &Path) -> Result<()> {
    let bin = dir.join("bin");
    fs::create_dir_all(&bin)?;
    fs::copy(BUSYBOX, bin.join("busybox")).with_context(|| format!("could not copy {BUSYBOX}"))?;

    let list = Command::new(BUSYBOX)
        .arg("--list")
        .output()
        .with_context(|| format!("could not run `{BUSYBOX} --list`"))?;
    if !list.status.success() {
        bail!("`{BUSYBOX} --list` failed ({})", list.status);
    }
    let applets = String::from_utf8(list.stdout).context("applet names are not UTF-8")?;
    for applet in applets.lines().map(str::trim) {
        if applet.is_empty() || applet == "busybox" || applet.contains('/') {
            continue;
        }
        symlink("busybox", bin.join(applet))?;
    }
    // Every applet lives in /bin; these make /usr/bin/env, /sbin/ip and friends resolve too.
    fs::create_dir_all(dir.join("usr"))?;
    symlink("bin", dir.join("sbin"))?;
    symlink("../bin", dir.join("usr/bin"))?;
    symlink("../bin", dir.join("usr/sbin"))?;

    let etc = dir.join("etc");
    fs::create_dir_all(&etc)?;
    fs::write(
        etc.join("passwd"),
        "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    )?;
    fs::write(etc.join("group"), "root:x:0:\nnogroup:x:65534:\n")?;
    for (name, mode) in [
        ("tmp", 0o1777),
        ("root", 0o700),
        ("proc", 0o555),
        ("sys", 0o555),
    ] {
        let path = dir.join(name);
        fs::create_dir_all(&path)?;
        fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
    }
    fs::create_dir_all(dir.join("dev"))?;
    Ok(())
}

/// A scratch directory removed on drop (hand-written: one use does not justify `tempfile`).
pub(crate) struct TempDir(pub(crate) PathBuf);

impl TempDir {
    pub(crate) fn new(prefix: &str) -> Result<Self> {
        let path = env::temp_dir().join(format!("{prefix}-{}", std::process::id()));
        // A leftover from a crashed run with the same pid would make symlink() fail.
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path)
            .with_context(|| format!("could not create {}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}
