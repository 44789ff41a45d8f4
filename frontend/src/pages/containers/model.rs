//! The containers list's data work, apart from the view: filter, sort, group by stack, cut
//! into pages, and turn published ports into links. Plain functions on plain data, so the
//! view only wires signals to them.

use std::cmp::Ordering;
use std::collections::HashSet;
use std::net::IpAddr;

use wire::{ContainerSummary, EnvironmentInfo, PortMapping};

/// The label Compose puts on a project's containers, and the one `docker stack deploy` uses.
const COMPOSE_PROJECT: &str = "com.docker.compose.project";
const SWARM_STACK: &str = "com.docker.stack.namespace";

/// The page sizes on offer; the first visit shows [`DEFAULT_PAGE_SIZE`].
pub const PAGE_SIZES: [usize; 4] = [25, 50, 100, 250];
pub const DEFAULT_PAGE_SIZE: usize = 50;

/// A sortable column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Col {
    Name,
    Id,
    Image,
    State,
    Status,
    Stack,
    Ips,
    Ports,
    Created,
}

impl Col {
    /// The `data-testid` suffix of its header button (`sort-name`, ...).
    pub fn slug(self) -> &'static str {
        match self {
            Col::Name => "name",
            Col::Id => "id",
            Col::Image => "image",
            Col::State => "state",
            Col::Status => "status",
            Col::Stack => "stack",
            Col::Ips => "ips",
            Col::Ports => "ports",
            Col::Created => "created",
        }
    }

    /// Which way a first click sorts: newest first for dates, A→Z for the rest.
    pub fn first_ascending(self) -> bool {
        !matches!(self, Col::Created)
    }
}

/// The list's order: a column and a direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sort {
    pub col: Col,
    pub asc: bool,
}

impl Default for Sort {
    /// Newest first, as `docker ps` lists them: what a test (or a person) just made is on
    /// the first page.
    fn default() -> Self {
        Sort {
            col: Col::Created,
            asc: false,
        }
    }
}

impl Sort {
    /// A click on `col`'s header: the other way round if it is already the column, else
    /// that column in its natural direction.
    pub fn clicked(self, col: Col) -> Sort {
        if self.col == col {
            Sort {
                col,
                asc: !self.asc,
            }
        } else {
            Sort {
                col,
                asc: col.first_ascending(),
            }
        }
    }
}

/// The stack a container belongs to: its Compose project or its Swarm stack.
pub fn stack_of(c: &ContainerSummary) -> Option<&str> {
    c.labels
        .get(COMPOSE_PROJECT)
        .or_else(|| c.labels.get(SWARM_STACK))
        .map(String::as_str)
        .filter(|s| !s.is_empty())
}

/// Whether the stack is a Compose project, which has a page of its own (`/stacks/NAME`);
/// a Swarm stack's containers are its services' tasks.
pub fn is_compose(c: &ContainerSummary) -> bool {
    c.labels.get(COMPOSE_PROJECT).is_some_and(|p| !p.is_empty())
}

/// The 12 characters `docker ps` shows.
pub fn short_id(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// Whether the filter text matches: a case-insensitive part of the name, image, stack,
/// state or id. `needle` is already lower case and trimmed.
pub fn matches(c: &ContainerSummary, needle: &str) -> bool {
    needle.is_empty()
        || c.names.iter().any(|n| n.to_lowercase().contains(needle))
        || c.image.to_lowercase().contains(needle)
        || stack_of(c).is_some_and(|s| s.to_lowercase().contains(needle))
        || c.state.contains(needle)
        || c.id.starts_with(needle)
}

/// Addresses compare as numbers (10.0.0.9 before 10.0.0.10); none sort last.
fn ip_key(c: &ContainerSummary) -> Option<IpAddr> {
    c.ips.first().and_then(|ip| ip.parse().ok())
}

fn port_key(c: &ContainerSummary) -> Option<(u16, u16)> {
    c.ports
        .iter()
        .map(|p| (p.host_port.unwrap_or(u16::MAX), p.container_port))
        .min()
}

/// Empty values sort after the others whichever the direction, like Portainer's tables.
fn empty_last<T: Ord>(a: Option<T>, b: Option<T>, asc: bool) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) if asc => a.cmp(&b),
        (Some(a), Some(b)) => b.cmp(&a),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// `a` against `b` by the sort; ties go by name, then id, the same way round, so the
/// order never flickers (and "newest first" lists the last made of one second first).
pub fn compare(a: &ContainerSummary, b: &ContainerSummary, sort: Sort) -> Ordering {
    let name = |c: &ContainerSummary| c.display_name().to_lowercase();
    let by = |o: Ordering| if sort.asc { o } else { o.reverse() };
    let first = match sort.col {
        Col::Name => by(name(a).cmp(&name(b))),
        Col::Id => by(a.id.cmp(&b.id)),
        Col::Image => by(a.image.to_lowercase().cmp(&b.image.to_lowercase())),
        Col::State => by(a.state.cmp(&b.state)),
        Col::Status => by(a.status.cmp(&b.status)),
        Col::Created => by(a.created.cmp(&b.created)),
        Col::Stack => empty_last(stack_of(a), stack_of(b), sort.asc),
        Col::Ips => empty_last(ip_key(a), ip_key(b), sort.asc),
        Col::Ports => empty_last(port_key(a), port_key(b), sort.asc),
    };
    first
        .then_with(|| by(name(a).cmp(&name(b))))
        .then_with(|| by(a.id.cmp(&b.id)))
}

/// One line of the table: a stack's header (when grouping) or a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Group(Group),
    Row(String),
}

impl Item {
    /// The `<For>` key: rows by id, so a row stays mounted across refreshes.
    pub fn key(&self) -> String {
        match self {
            // The counts are in the key so a header re-renders when they change; folding
            // is not (the header follows it itself and keeps the focus).
            Item::Group(g) => format!(
                "group:{}:{}:{}:{}",
                g.stack, g.continued, g.count, g.running
            ),
            Item::Row(id) => id.clone(),
        }
    }
}

/// A stack's header line. `stack` is empty for containers of no stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub stack: String,
    pub count: usize,
    pub running: usize,
    pub collapsed: bool,
    /// A Compose project: the header links to its page.
    pub compose: bool,
    /// The group began on an earlier page; this page repeats its header.
    pub continued: bool,
}

/// What one page shows, and where it is in the whole.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Page {
    pub items: Vec<Item>,
    /// 0-based, already clamped to the last page.
    pub index: usize,
    pub pages: usize,
    /// Container rows across all pages (collapsed groups' rows are not counted).
    pub rows: usize,
    /// 1-based positions of the first and last row on this page (0 when none).
    pub first: usize,
    pub last: usize,
    /// Ids of the rows on this page.
    pub ids: Vec<String>,
}

/// What the user asked the list to show.
#[derive(Debug, Clone, Copy)]
pub struct Query<'a> {
    /// The filter text, lower case and trimmed.
    pub needle: &'a str,
    pub running_only: bool,
    pub sort: Sort,
    /// Grouped by stack: stacks in name order (no stack last), each sorted by `sort`.
    pub group: bool,
    /// The page asked for (0-based); clamped to the last one.
    pub index: usize,
    pub size: usize,
}

/// Filters, sorts, groups and cuts `rows` into the page the query asks for. A collapsed
/// group (by stack name, in `collapsed`) is only its header, which belongs to the page of
/// the row after it.
pub fn page(rows: &[ContainerSummary], q: &Query<'_>, collapsed: &HashSet<String>) -> Page {
    let Query {
        needle,
        running_only,
        sort,
        group,
        index,
        size,
    } = *q;
    let size = size.max(1);
    let mut shown: Vec<&ContainerSummary> = rows
        .iter()
        .filter(|c| !running_only || c.state == "running")
        .filter(|c| matches(c, needle))
        .collect();
    let items: Vec<Item> = if group {
        shown.sort_by(|a, b| {
            let (sa, sb) = (stack_of(a), stack_of(b));
            empty_last(sa, sb, true).then_with(|| compare(a, b, sort))
        });
        let mut items = Vec::with_capacity(shown.len() + 8);
        let mut i = 0;
        while i < shown.len() {
            let stack = stack_of(shown[i]);
            let end = shown[i..]
                .iter()
                .position(|c| stack_of(c) != stack)
                .map_or(shown.len(), |n| i + n);
            let name = stack.unwrap_or_default().to_owned();
            let members = &shown[i..end];
            let is_collapsed = collapsed.contains(&name);
            items.push(Item::Group(Group {
                count: members.len(),
                running: members.iter().filter(|c| c.state == "running").count(),
                collapsed: is_collapsed,
                compose: members.iter().any(|c| is_compose(c)),
                continued: false,
                stack: name,
            }));
            if !is_collapsed {
                items.extend(members.iter().map(|c| Item::Row(c.id.clone())));
            }
            i = end;
        }
        items
    } else {
        shown.sort_by(|a, b| compare(a, b, sort));
        shown.iter().map(|c| Item::Row(c.id.clone())).collect()
    };

    let total = items.iter().filter(|i| matches!(i, Item::Row(_))).count();
    let pages = total.div_ceil(size).max(1);
    let index = index.min(pages - 1);
    let mut out = Vec::new();
    let mut row = 0;
    // The header the current page's first row falls under, for the "continued" copy.
    let mut last_group: Option<&Group> = None;
    for item in &items {
        // A header goes with the row after it; headers after the last row, to the last page.
        let on = (row / size).min(pages - 1);
        match item {
            Item::Group(g) => {
                last_group = Some(g);
                if on == index {
                    out.push(item.clone());
                }
            }
            Item::Row(_) => {
                if on == index {
                    if out.is_empty() {
                        if let Some(g) = last_group {
                            out.push(Item::Group(Group {
                                continued: true,
                                ..g.clone()
                            }));
                        }
                    }
                    out.push(item.clone());
                }
                row += 1;
            }
        }
    }
    let ids: Vec<String> = out
        .iter()
        .filter_map(|i| match i {
            Item::Row(id) => Some(id.clone()),
            Item::Group(_) => None,
        })
        .collect();
    let first = if ids.is_empty() { 0 } else { index * size + 1 };
    Page {
        first,
        last: if ids.is_empty() {
            0
        } else {
            first + ids.len() - 1
        },
        items: out,
        index,
        pages,
        rows: total,
        ids,
    }
}

/// Where published ports are reached: the environment's host for a remote daemon
/// (`tcp://host:port`, `ssh://user@host`), else the host the browser reached berth at.
pub fn port_host(envs: &[EnvironmentInfo], current: Option<&str>, browser_host: &str) -> String {
    let env = match current {
        Some(name) => envs.iter().find(|e| e.name == name),
        None => envs.iter().find(|e| e.builtin),
    };
    env.and_then(|e| url_host(&e.url))
        .unwrap_or_else(|| browser_host.to_owned())
}

/// The host part of a daemon URL, if it names a network host (not a unix socket).
fn url_host(url: &str) -> Option<String> {
    let rest = ["tcp://", "ssh://", "http://", "https://"]
        .iter()
        .find_map(|scheme| url.strip_prefix(scheme))?;
    let authority = rest.split('/').next().unwrap_or_default();
    let authority = authority.rsplit('@').next().unwrap_or_default();
    let host = if let Some(v6) = authority.strip_prefix('[') {
        format!("[{}]", v6.split(']').next().unwrap_or_default())
    } else {
        authority.split(':').next().unwrap_or_default().to_owned()
    };
    (!host.is_empty() && host != "[]").then_some(host)
}

/// A port as the list shows it; published TCP ports are links.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortView {
    pub text: String,
    pub href: Option<String>,
}

fn is_wildcard(ip: &str) -> bool {
    ip.is_empty() || ip == "0.0.0.0" || ip == "::"
}

/// The ports of a container, once each: the daemon lists a port published on IPv4 and
/// IPv6 twice (`0.0.0.0` and `::`). A port bound to one address links to that address,
/// unless it is a loopback one, which only the daemon's host could reach.
pub fn port_views(ports: &[PortMapping], host: &str) -> Vec<PortView> {
    let mut seen = HashSet::new();
    let mut out = Vec::new();
    let mut sorted: Vec<&PortMapping> = ports.iter().collect();
    sorted.sort_by_key(|p| (p.host_port.is_none(), p.host_port, p.container_port));
    for p in sorted {
        let ip = p.host_ip.as_deref().unwrap_or_default();
        let specific = (!is_wildcard(ip)).then_some(ip);
        let key = (specific, p.host_port, p.container_port, p.protocol.as_str());
        if !seen.insert(key) {
            continue;
        }
        let Some(host_port) = p.host_port else {
            out.push(PortView {
                text: format!("{}/{}", p.container_port, p.protocol),
                href: None,
            });
            continue;
        };
        let shown_ip = match specific {
            Some(ip) if ip.contains(':') => format!("[{ip}]:"),
            Some(ip) => format!("{ip}:"),
            None => String::new(),
        };
        let text = format!("{shown_ip}{host_port}→{}/{}", p.container_port, p.protocol);
        let loopback = specific
            .and_then(|ip| ip.parse::<IpAddr>().ok())
            .is_some_and(|ip| ip.is_loopback());
        let link_host = match specific {
            Some(ip) if !loopback && ip.contains(':') => format!("[{ip}]"),
            Some(ip) if !loopback => ip.to_owned(),
            _ => host.to_owned(),
        };
        let href = (p.protocol == "tcp").then(|| format!("http://{link_host}:{host_port}"));
        out.push(PortView { text, href });
    }
    out
}

/// A daemon message with every 64-hex id cut to the 12 characters the list shows
/// ("Container 3f8710d0a763… is not running"), so a row's error stays readable.
pub fn short_ids(msg: &str) -> String {
    let mut out = String::with_capacity(msg.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() == 64 {
            out.push_str(&run[..12]);
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for ch in msg.chars() {
        if matches!(ch, '0'..='9' | 'a'..='f') {
            run.push(ch);
        } else {
            flush(&mut run, &mut out);
            out.push(ch);
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(name: &str, state: &str, created: i64, stack: Option<&str>) -> ContainerSummary {
        ContainerSummary {
            id: format!("{name:0>64}"),
            names: vec![name.to_owned()],
            image: "busybox".into(),
            state: state.into(),
            status: String::new(),
            created,
            ports: Vec::new(),
            labels: stack
                .map(|s| [(COMPOSE_PROJECT.to_owned(), s.to_owned())].into())
                .unwrap_or_default(),
            ips: Vec::new(),
        }
    }

    fn q(group: bool, index: usize, size: usize) -> Query<'static> {
        Query {
            needle: "",
            running_only: false,
            sort: Sort {
                col: Col::Name,
                asc: true,
            },
            group,
            index,
            size,
        }
    }

    fn ids(p: &Page) -> Vec<String> {
        p.items
            .iter()
            .map(|i| match i {
                Item::Row(id) => id.trim_start_matches('0').to_owned(),
                Item::Group(g) => format!("[{}{}]", g.stack, if g.continued { "…" } else { "" }),
            })
            .collect()
    }

    #[test]
    fn pages_and_groups() {
        let rows = vec![
            c("a", "running", 1, Some("s")),
            c("b", "exited", 2, None),
            c("c", "running", 3, Some("s")),
            c("d", "exited", 4, None),
        ];
        let none = HashSet::new();
        let p = page(&rows, &q(false, 1, 3), &none);
        assert_eq!((p.first, p.last, p.rows, p.pages), (4, 4, 4, 2));
        assert_eq!(ids(&p), ["d"]);
        // A page past the end is the last one.
        assert_eq!(page(&rows, &q(false, 9, 3), &none).index, 1);
        // Grouped: the stack first, no stack last; a group cut by a page repeats its header.
        let p = page(&rows, &q(true, 0, 3), &none);
        assert_eq!(ids(&p), ["[s]", "a", "c", "[]", "b"]);
        let p = page(&rows, &q(true, 1, 3), &none);
        assert_eq!(ids(&p), ["[…]", "d"]);
        // A folded group is only its header.
        let folded: HashSet<String> = ["s".to_owned()].into();
        let p = page(&rows, &q(true, 0, 3), &folded);
        assert_eq!(ids(&p), ["[s]", "[]", "b", "d"]);
        assert_eq!(p.rows, 2);
    }

    #[test]
    fn newest_first_by_default() {
        let rows = vec![c("a", "created", 1, None), c("b", "created", 2, None)];
        let p = page(
            &rows,
            &Query {
                sort: Sort::default(),
                ..q(false, 0, 25)
            },
            &HashSet::new(),
        );
        assert_eq!(ids(&p), ["b", "a"]);
    }

    #[test]
    fn ports_once_each_and_linked() {
        let port = |ip: &str, host: u16, proto: &str| PortMapping {
            host_ip: Some(ip.into()),
            host_port: Some(host),
            container_port: 80,
            protocol: proto.into(),
        };
        let views = port_views(
            &[
                port("0.0.0.0", 8080, "tcp"),
                port("::", 8080, "tcp"),
                port("127.0.0.1", 9090, "tcp"),
                port("0.0.0.0", 5353, "udp"),
            ],
            "berth.example",
        );
        let got: Vec<(&str, Option<&str>)> = views
            .iter()
            .map(|v| (v.text.as_str(), v.href.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("5353→80/udp", None),
                ("8080→80/tcp", Some("http://berth.example:8080")),
                ("127.0.0.1:9090→80/tcp", Some("http://berth.example:9090")),
            ]
        );
    }

    #[test]
    fn hosts_of_daemon_urls() {
        assert_eq!(url_host("tcp://10.0.0.5:2376").as_deref(), Some("10.0.0.5"));
        assert_eq!(url_host("ssh://me@box.lan:22").as_deref(), Some("box.lan"));
        assert_eq!(
            url_host("tcp://[fd00::1]:2375").as_deref(),
            Some("[fd00::1]")
        );
        assert_eq!(url_host("unix:///var/run/docker.sock"), None);
    }

    #[test]
    fn long_ids_are_cut() {
        let id = "a".repeat(64);
        assert_eq!(
            short_ids(&format!("Container {id} is not running")),
            format!("Container {} is not running", &id[..12])
        );
    }
}
