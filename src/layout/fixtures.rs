//! Test graphs and a plain-text rendering for looking at layouts.

use super::{arrow_glyph, glyph, EdgeSpec, Layout, NodeSpec, Rect};

pub(super) struct Case {
    pub name: &'static str,
    pub nodes: Vec<NodeSpec>,
    pub edges: Vec<EdgeSpec>,
}

pub(super) fn node(key: &str, width: u16) -> NodeSpec {
    NodeSpec {
        key: key.to_string(),
        width,
        min_height: 3,
    }
}

pub(super) fn edges(pairs: &[(usize, usize)]) -> Vec<EdgeSpec> {
    pairs
        .iter()
        .map(|&(from, to)| EdgeSpec { from, to })
        .collect()
}

fn case(name: &'static str, keys: &[&str], pairs: &[(usize, usize)]) -> Case {
    Case {
        name,
        nodes: keys
            .iter()
            .map(|k| node(k, u16::try_from(k.len() + 4).unwrap()))
            .collect(),
        edges: edges(pairs),
    }
}

pub(super) const BOOKINFO_KEYS: [&str; 7] = [
    "gateway",
    "productpage",
    "details",
    "reviews-v1",
    "reviews-v2",
    "reviews-v3",
    "ratings",
];

pub(super) fn bookinfo() -> Case {
    case(
        "bookinfo",
        &BOOKINFO_KEYS,
        &[(0, 1), (1, 2), (1, 3), (1, 4), (1, 5), (4, 6), (5, 6)],
    )
}

/// A tiny xorshift generator, so test graphs are the same on every run and platform.
pub(super) struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

/// A random DAG shaped like a mesh: edges mostly go a few steps down a hidden topological order.
/// Keys are random so that key order says nothing about the topology.
pub(super) fn random_dag(seed: u64, n: usize, edge_count: usize) -> Case {
    let mut rng = Rng::new(seed);
    let nodes = (0..n)
        .map(|i| {
            let key = format!("{:08x}-{i}", rng.next() as u32);
            let width = 8 + rng.below(16) as u16;
            NodeSpec {
                key,
                width,
                min_height: 3,
            }
        })
        .collect();
    let mut list = Vec::new();
    for _ in 0..edge_count {
        let from = rng.below(n - 1);
        let span = 1 + rng.below((n - from - 1).min(12));
        list.push(EdgeSpec {
            from,
            to: from + span,
        });
    }
    Case {
        name: "random dag",
        nodes,
        edges: list,
    }
}

/// Random edges in both directions: cycles, parallel edges and self loops included.
fn random_graph(seed: u64, n: usize, edge_count: usize) -> Case {
    let mut rng = Rng::new(seed);
    let mut case = random_dag(seed, n, 0);
    case.name = "random graph with cycles";
    case.edges = (0..edge_count)
        .map(|_| EdgeSpec {
            from: rng.below(n),
            to: rng.below(n),
        })
        .collect();
    case
}

pub(super) fn cases() -> Vec<Case> {
    let fan_keys: Vec<String> = (0..31).map(|i| format!("fan-{i:02}")).collect();
    let fan_refs: Vec<&str> = fan_keys.iter().map(String::as_str).collect();
    let fan_pairs: Vec<(usize, usize)> = (1..31).map(|i| (0, i)).collect();
    let mut list = vec![
        case("empty", &[], &[]),
        case("single node", &["alone"], &[]),
        case(
            "chain",
            &["a", "b", "c", "d", "e"],
            &[(0, 1), (1, 2), (2, 3), (3, 4)],
        ),
        case(
            "diamond",
            &["top", "left", "right", "bottom"],
            &[(0, 1), (0, 2), (1, 3), (2, 3)],
        ),
        bookinfo(),
        case(
            "cycle",
            &["a", "b", "c", "d"],
            &[(0, 1), (1, 2), (2, 0), (2, 3)],
        ),
        case(
            "two node cycle",
            &["ping", "pong"],
            &[(0, 1), (1, 0), (1, 0)],
        ),
        case(
            "duplicate parallel edges",
            &["a", "b", "c"],
            &[(0, 1), (0, 1), (0, 1), (1, 2), (1, 2), (0, 2)],
        ),
        case("self loop", &["a", "b"], &[(0, 0), (0, 1), (1, 1)]),
        case(
            "out of range edges",
            &["a", "b"],
            &[(0, 5), (7, 1), (0, 1), (usize::MAX, 0)],
        ),
        case("fan out of 30", &fan_refs, &fan_pairs),
        case(
            "long edges around a chain",
            &["a", "b", "c", "d", "e", "f"],
            &[
                (0, 1),
                (1, 2),
                (2, 3),
                (3, 4),
                (4, 5),
                (0, 5),
                (0, 3),
                (1, 5),
                (2, 5),
            ],
        ),
    ];
    list.push(random_dag(1, 50, 80));
    list.push(random_dag(2, 120, 190));
    list.push(random_dag(3, 300, 450));
    list.push(random_graph(4, 60, 110));
    list.push(random_graph(5, 25, 70));
    list
}

/// The layout as text: boxes outlined with `+-|` and their keys, edges with box drawing.
#[allow(dead_code)]
pub(super) fn render(layout: &Layout, nodes: &[NodeSpec]) -> String {
    let (w, h) = (layout.width as usize, layout.height as usize);
    let mut grid = vec![vec![' '; w]; h];
    let window = Rect {
        x: 0,
        y: 0,
        width: layout.width,
        height: layout.height,
    };
    for c in layout.edge_cells_in(window) {
        grid[c.y as usize][c.x as usize] = match c.arrow {
            Some(dir) => arrow_glyph(dir, false),
            None => glyph(c.dirs, false),
        };
    }
    for (b, spec) in layout.nodes.iter().zip(nodes) {
        let (x0, y0) = (b.x as usize, b.y as usize);
        let (x1, y1) = (x0 + b.width as usize - 1, y0 + b.height as usize - 1);
        for (y, row) in grid.iter_mut().enumerate().take(y1 + 1).skip(y0) {
            for (x, cell) in row.iter_mut().enumerate().take(x1 + 1).skip(x0) {
                *cell = match (y == y0 || y == y1, x == x0 || x == x1) {
                    (true, true) => '+',
                    (true, false) => '-',
                    (false, true) => '|',
                    (false, false) => ' ',
                };
            }
        }
        for (i, ch) in spec.key.chars().take(b.width as usize - 2).enumerate() {
            grid[y0 + 1][x0 + 1 + i] = ch;
        }
    }
    grid.iter()
        .map(|row| row.iter().collect::<String>().trim_end().to_string())
        .collect::<Vec<_>>()
        .join("\n")
}
