//! The images berth's built-in templates name (issue 16), made from Debian packages because
//! the test machine reaches no image registry: one Debian 12 rootfs by `debootstrap`
//! (kept in /var/cache so a later run reuses it), then per image a copy of it with
//! `apt-get install` run in a chroot, imported under the template's own image name
//! (`redis:7`, `nginx:stable`, ...) so a deploy never pulls. An image whose tag exists is
//! skipped: the first run takes minutes, later ones a second.
//!
//! Jenkins and GitLab CE are not packaged in Debian 12: their templates need the upstream
//! images and are marked so (server/src/templates/builtin.rs); nothing is faked here.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::{say, status};

const MIRROR: &str = "http://deb.debian.org/debian";
const BASE_DIR: &str = "/var/cache/berth-test/debian-bookworm";

/// A template image: its tag, the Debian packages in it, a script run in the chroot after
/// the install, and `docker import --change` lines.
struct AppImage {
    tag: &'static str,
    packages: &'static [&'static str],
    setup: &'static str,
    changes: &'static [&'static str],
}

/// MariaDB's server in an image named as the template names MySQL's: the entrypoint
/// initialises the data dir once with `MYSQL_ROOT_PASSWORD` for root from anywhere.
const MYSQL_ENTRYPOINT: &str = r#"#!/bin/sh
set -e
# The image's files are imported owned by root: hand the server its own again.
mkdir -p /run/mysqld /var/lib/mysql && chown -R mysql:mysql /run/mysqld /var/lib/mysql
if [ ! -d /var/lib/mysql/mysql ]; then
  mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null
  cat > /tmp/init.sql <<SQL
ALTER USER 'root'@'localhost' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD}';
CREATE USER 'root'@'%' IDENTIFIED BY '${MYSQL_ROOT_PASSWORD}';
GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION;
FLUSH PRIVILEGES;
SQL
  exec mariadbd --user=mysql --bind-address=0.0.0.0 --init-file=/tmp/init.sql
fi
exec mariadbd --user=mysql --bind-address=0.0.0.0
"#;

const IMAGES: &[AppImage] = &[
    AppImage {
        tag: "redis:7",
        packages: &["redis-server", "redis-tools"],
        setup: "",
        changes: &[r#"CMD ["redis-server", "--protected-mode", "no"]"#],
    },
    AppImage {
        tag: "nginx:stable",
        packages: &["nginx-light"],
        setup: "ln -sf /dev/stdout /var/log/nginx/access.log; ln -sf /dev/stderr /var/log/nginx/error.log",
        // The page names the container, so a balancer in front shows which replica answered.
        changes: &[
            r#"CMD ["sh", "-c", "hostname > /var/www/html/index.html; exec nginx -g 'daemon off;'"]"#,
        ],
    },
    AppImage {
        tag: "haproxy:lts",
        packages: &["haproxy"],
        setup: "",
        changes: &[r#"CMD ["haproxy", "-f", "/etc/haproxy/haproxy.cfg"]"#],
    },
    AppImage {
        tag: "registry:2",
        packages: &["docker-registry"],
        setup: "",
        changes: &[
            "ENV REGISTRY_HTTP_ADDR=0.0.0.0:5000",
            "ENV REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/var/lib/registry",
            r#"CMD ["docker-registry", "serve", "/etc/docker/registry/config.yml"]"#,
        ],
    },
    AppImage {
        tag: "httpd:2",
        packages: &["apache2-utils"],
        setup: "",
        changes: &[r#"CMD ["sh"]"#],
    },
    AppImage {
        tag: "mysql:8",
        packages: &["mariadb-server", "mariadb-client"],
        // The package initialised a data dir without a root password: the entrypoint makes
        // a fresh one with the template's.
        setup: "rm -rf /var/lib/mysql/*",
        changes: &[r#"CMD ["/usr/local/bin/mysql-entrypoint"]"#],
    },
    AppImage {
        tag: "gcc:latest",
        packages: &["gcc", "libc6-dev"],
        setup: "",
        changes: &[r#"CMD ["sh"]"#],
    },
    AppImage {
        tag: "python:3",
        packages: &["python3"],
        setup: "ln -sf /usr/bin/python3 /usr/local/bin/python",
        changes: &[r#"CMD ["python3"]"#],
    },
];

/// The tags the built-in templates use.
fn tags() -> Vec<&'static str> {
    IMAGES.iter().map(|i| i.tag).collect()
}

/// Makes every template image that is missing on the daemon at `host`.
pub fn ensure(host: &str) -> Result<()> {
    let missing: Vec<&AppImage> = IMAGES
        .iter()
        .filter(|i| !crate::images::has_image(host, i.tag).unwrap_or(false))
        .collect();
    if missing.is_empty() {
        say!("template images are present ({})", tags().join(", "));
        return Ok(());
    }
    let started = Instant::now();
    let base = base_rootfs()?;
    for img in missing {
        let t = Instant::now();
        say!("making template image {} from {:?}", img.tag, img.packages);
        build(host, &base, img).with_context(|| format!("making {}", img.tag))?;
        say!("{} made in {} s", img.tag, t.elapsed().as_secs());
    }
    say!("template images made in {} s", started.elapsed().as_secs());
    Ok(())
}

/// Debian 12 (minbase) by debootstrap, once; kept for later runs.
fn base_rootfs() -> Result<PathBuf> {
    let dir = PathBuf::from(BASE_DIR);
    if dir.join("usr/bin/apt-get").exists() {
        return Ok(dir);
    }
    let partial = dir.with_extension("partial");
    let _ = fs::remove_dir_all(&partial);
    fs::create_dir_all(&partial)?;
    say!(
        "debootstrap bookworm into {} (a minute or two)",
        partial.display()
    );
    status(
        Command::new("debootstrap")
            .args(["--variant=minbase", "bookworm"])
            .arg(&partial)
            .arg(MIRROR),
    )?;
    let _ = fs::remove_dir_all(&dir);
    fs::rename(&partial, &dir)?;
    Ok(dir)
}

fn build(host: &str, base: &Path, img: &AppImage) -> Result<()> {
    let root = crate::images::TempDir::new("berth-app-image")?;
    let dir = root.0.join("rootfs");
    status(Command::new("cp").arg("-a").arg(base).arg(&dir))?;
    fs::copy("/etc/resolv.conf", dir.join("etc/resolv.conf"))?;
    // No service starts inside the chroot (mariadb's postinst would try).
    let policy = dir.join("usr/sbin/policy-rc.d");
    fs::write(&policy, "#!/bin/sh\nexit 101\n")?;
    set_exec(&policy)?;
    if img.tag == "mysql:8" {
        let ep = dir.join("usr/local/bin/mysql-entrypoint");
        fs::write(&ep, MYSQL_ENTRYPOINT)?;
        set_exec(&ep)?;
    }
    let script = format!(
        "set -e; export DEBIAN_FRONTEND=noninteractive; apt-get update -q; \
         apt-get install -y -q --no-install-recommends {}; {}; apt-get clean; \
         rm -rf /var/lib/apt/lists/* /usr/sbin/policy-rc.d",
        img.packages.join(" "),
        if img.setup.is_empty() {
            "true"
        } else {
            img.setup
        }
    );
    status(
        Command::new("chroot")
            .arg(&dir)
            .args(["/bin/sh", "-c", &script]),
    )?;
    fs::write(dir.join("etc/resolv.conf"), "")?;
    let changes: Vec<String> = img
        .changes
        .iter()
        .flat_map(|c| ["--change".to_owned(), (*c).to_owned()])
        .collect();
    let changes: Vec<&str> = changes.iter().map(String::as_str).collect();
    crate::images::import(host, &dir, img.tag, &changes)
}

fn set_exec(p: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(0o755))?;
    Ok(())
}
