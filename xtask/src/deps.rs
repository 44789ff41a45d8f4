//! The programs the tests need, installed from Debian's archive when missing.
//!
//! Each is checked by the paths the tests use, so a program of the same name elsewhere on
//! PATH does not count. As root we install what is missing; otherwise we print the command.

use std::{
    collections::BTreeSet, env, fs, os::unix::fs::PermissionsExt, path::Path, process::Command,
};

use anyhow::{bail, Result};

use crate::{say, status};

/// A Debian package the tests need, present when any of `paths` is an executable file.
struct Need {
    package: &'static str,
    paths: &'static [&'static str],
    /// Not needed at all while this variable is set: the caller brings their own.
    unless_env: Option<&'static str>,
}

const fn need(package: &'static str, paths: &'static [&'static str]) -> Need {
    Need {
        package,
        paths,
        unless_env: None,
    }
}

const NEEDED: &[Need] = &[
    // /usr/bin/dockerd is Docker's own docker-ce: installing docker.io over it would make
    // apt remove it, so either counts.
    Need {
        package: "docker.io",
        paths: &["/usr/sbin/dockerd", "/usr/bin/dockerd"],
        unless_env: Some("BERTH_TEST_DOCKER_HOST"),
    },
    need("docker.io", &["/usr/bin/docker"]),
    Need {
        package: "chromium",
        paths: &[CHROMIUM],
        unless_env: Some("BERTH_CHROMIUM"),
    },
    Need {
        package: "chromium-driver",
        paths: &[CHROMEDRIVER],
        unless_env: Some("BERTH_CHROMEDRIVER"),
    },
    need("busybox-static", &["/bin/busybox"]),
    need("docker-compose", &["/usr/bin/docker-compose"]),
    need("docker-registry", &["/usr/bin/docker-registry"]),
    need("nginx-light", &["/usr/sbin/nginx"]),
    need("debootstrap", &["/usr/sbin/debootstrap"]),
    need("apache2-utils", &["/usr/bin/htpasswd"]),
    // The bench counts berth's daemon connections with `ss`.
    need("iproute2", &["/usr/bin/ss", "/bin/ss"]),
    // The environment tests' hosts: network namespaces (`ip netns`), sshd in them, and the
    // ssh client berth runs for ssh:// environments; openssl makes their certificates.
    need("iproute2", &["/usr/sbin/ip", "/bin/ip"]),
    need("openssh-server", &["/usr/sbin/sshd"]),
    need("openssh-client", &["/usr/bin/ssh", "/usr/bin/ssh-keygen"]),
    need("openssl", &["/usr/bin/openssl"]),
    // schemathesis (after the tests) runs from a virtualenv made by Debian's python3.
    need("python3", &["/usr/bin/python3"]),
];

/// Paths handed to the tests (BERTH_CHROMEDRIVER, BERTH_CHROMIUM).
pub const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
pub const CHROMIUM: &str = "/usr/lib/chromium/chromium";

/// Installs (as root) or names (otherwise) every missing package.
pub fn ensure() -> Result<()> {
    let missing = missing_packages();
    if missing.is_empty() {
        say!("test dependencies are installed");
        return Ok(());
    }
    let packages: Vec<&str> = missing.into_iter().collect();
    let install = format!(
        "apt-get install -y --no-install-recommends {}",
        packages.join(" ")
    );
    if !is_root() {
        bail!(
            "the tests need Debian packages that are missing: {}\ninstall them with:\n  \
             sudo apt-get update && sudo DEBIAN_FRONTEND=noninteractive {install}",
            packages.join(", ")
        );
    }
    say!("installing {}", packages.join(" "));
    status(Command::new("apt-get").arg("update"))?;
    status(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(&packages)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )?;
    let still = missing_packages();
    if !still.is_empty() {
        bail!("still missing after `{install}`: {still:?}");
    }
    Ok(())
}

/// Installs Debian's `docker.io` (as root) unless a dockerd and the docker CLI are there:
/// what `cargo xtask run` needs to start a private daemon.
pub fn ensure_docker() -> Result<()> {
    let present = |paths: &[&str]| paths.iter().any(|p| is_executable(Path::new(p)));
    if present(&["/usr/sbin/dockerd", "/usr/bin/dockerd"]) && present(&["/usr/bin/docker"]) {
        return Ok(());
    }
    if !is_root() {
        bail!("Docker is not installed; install it with: sudo apt-get install docker.io");
    }
    say!("installing Debian's docker.io");
    status(Command::new("apt-get").arg("update"))?;
    status(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "docker.io"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn missing_packages() -> BTreeSet<&'static str> {
    let mut missing: BTreeSet<&str> = NEEDED
        .iter()
        .filter(|need| need.unless_env.is_none_or(|var| env::var_os(var).is_none()))
        .filter(|need| !need.paths.iter().any(|path| is_executable(Path::new(path))))
        .map(|need| need.package)
        .collect();
    // Debian's plain `busybox` package also installs /bin/busybox, dynamically linked; it
    // cannot run in the test image, which has no libc. busybox-static replaces it.
    if let Ok(bytes) = fs::read("/bin/busybox") {
        if elf_is_static(&bytes) != Some(true) {
            say!("/bin/busybox is not statically linked; busybox-static replaces it");
            missing.insert("busybox-static");
        }
    }
    // `python3 -m venv` needs ensurepip, which Debian ships apart, in python3-venv.
    let ensurepip = Command::new("/usr/bin/python3")
        .args(["-c", "import ensurepip"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status();
    if !ensurepip.is_ok_and(|s| s.success()) {
        missing.insert("python3-venv");
    }
    missing
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether an ELF executable is statically linked: it has no PT_INTERP program header (the
/// dynamic loader's path). None when the bytes are not an ELF file we can read.
/// (Hand-written: a few header fields do not justify an ELF crate, and `file` may be absent.)
fn elf_is_static(elf: &[u8]) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    if elf.get(..4)? != b"\x7fELF" {
        return None;
    }
    let wide = match elf.get(4)? {
        1 => false,
        2 => true,
        _ => return None,
    };
    let little = *elf.get(5)? == 1;
    let uint = |at: usize, len: usize| -> Option<u64> {
        let bytes = elf.get(at..at + len)?;
        let fold = |acc: u64, b: &u8| acc << 8 | u64::from(*b);
        Some(if little {
            bytes.iter().rev().fold(0, fold)
        } else {
            bytes.iter().fold(0, fold)
        })
    };
    // e_phoff, e_phentsize, e_phnum: at different offsets in 32- and 64-bit headers.
    let (phoff, phentsize, phnum) = if wide {
        (uint(0x20, 8)?, uint(0x36, 2)?, uint(0x38, 2)?)
    } else {
        (uint(0x1c, 4)?, uint(0x2a, 2)?, uint(0x2c, 2)?)
    };
    for i in 0..phnum {
        let header = usize::try_from(phoff + i * phentsize).ok()?;
        if uint(header, 4)? == u64::from(PT_INTERP) {
            return Some(false);
        }
    }
    Some(true)
}

#[allow(unsafe_code)]
pub fn is_root() -> bool {
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[cfg(test)]
mod tests {
    use super::elf_is_static;

    /// A 64-bit little-endian ELF header with one program header of type `p_type`.
    fn elf64(p_type: u32) -> Vec<u8> {
        let mut elf = vec![0u8; 64 + 56];
        elf[..6].copy_from_slice(b"\x7fELF\x02\x01");
        elf[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        elf[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        elf[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        elf[64..68].copy_from_slice(&p_type.to_le_bytes());
        elf
    }

    #[test]
    fn tells_static_from_dynamic() {
        assert_eq!(elf_is_static(&elf64(1)), Some(true)); // PT_LOAD only
        assert_eq!(elf_is_static(&elf64(3)), Some(false)); // PT_INTERP
        assert_eq!(elf_is_static(b"#!/bin/sh\n"), None);
        assert_eq!(elf_is_static(&elf64(3)[..66]), None); // truncated
    }

    #[test]
    fn reads_real_binaries() {
        // /bin/sh is dash, dynamically linked, on every Debian.
        if let Ok(sh) = std::fs::read("/bin/sh") {
            assert_eq!(elf_is_static(&sh), Some(false));
        }
    }
}
