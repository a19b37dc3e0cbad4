//! Properties every layout must have, checked over a table of graphs.

use std::collections::{BTreeMap, HashMap};

use super::fixtures::{self, bookinfo, cases, random_dag, render, Case, Rng};
use super::*;

fn params() -> LayoutParams {
    LayoutParams::default()
}

fn full(l: &Layout) -> Rect {
    Rect {
        x: 0,
        y: 0,
        width: l.width,
        height: l.height,
    }
}

fn routed(case: &Case, e: &EdgeSpec) -> bool {
    e.from < case.nodes.len() && e.to < case.nodes.len() && e.from != e.to
}

fn check_boxes(case: &Case, l: &Layout) {
    let name = case.name;
    assert_eq!(l.nodes.len(), case.nodes.len(), "{name}");
    for (i, a) in l.nodes.iter().enumerate() {
        assert!(
            a.rect().right() <= l.width && a.rect().bottom() <= l.height,
            "{name}: box {i} off canvas"
        );
        for b in &l.nodes[i + 1..] {
            assert!(
                !a.rect().intersects(&b.rect()),
                "{name}: boxes overlap: {a:?} {b:?}"
            );
        }
    }
    let mut layers: BTreeMap<usize, Vec<&NodeBox>> = BTreeMap::new();
    for b in &l.nodes {
        layers.entry(b.layer).or_default().push(b);
    }
    for boxes in layers.values_mut() {
        boxes.sort_by_key(|b| b.y);
        for (i, pair) in boxes.windows(2).enumerate() {
            let gap = u32::from(params().row_gap);
            assert!(
                pair[1].y >= pair[0].rect().bottom() + gap,
                "{name}: boxes too close"
            );
            assert_eq!((pair[0].order, pair[1].order), (i, i + 1), "{name}: order");
        }
    }
}

fn check_layers(case: &Case, l: &Layout) {
    let name = case.name;
    let mut has_incoming = vec![false; case.nodes.len()];
    for e in case.edges.iter().filter(|e| routed(case, e)) {
        has_incoming[e.to] = true;
    }
    for (i, b) in l.nodes.iter().enumerate() {
        if !has_incoming[i] {
            assert_eq!(b.layer, 0, "{name}: source {i} not in layer 0");
        }
    }
    for r in &l.routes {
        let e = case.edges[r.edge];
        let (from, to) = (l.nodes[e.from].layer, l.nodes[e.to].layer);
        if r.reversed {
            assert!(from > to, "{name}: reversed edge {} goes right", r.edge);
        } else {
            assert!(from < to, "{name}: edge {} does not go right", r.edge);
        }
    }
}

fn inside_rows(b: &NodeBox, y: u32) -> bool {
    y > b.y && y + 1 < b.rect().bottom()
}

fn check_routes(case: &Case, l: &Layout) {
    let name = case.name;
    let expected: Vec<usize> = (0..case.edges.len())
        .filter(|&i| routed(case, &case.edges[i]))
        .collect();
    let got: Vec<usize> = l.routes.iter().map(|r| r.edge).collect();
    assert_eq!(got, expected, "{name}: routed edges");
    for r in &l.routes {
        let e = case.edges[r.edge];
        let (left, right) = if r.reversed {
            (e.to, e.from)
        } else {
            (e.from, e.to)
        };
        let (lb, rb) = (l.nodes[left], l.nodes[right]);
        let (first, last) = (r.cells[0], r.cells[r.cells.len() - 1]);
        assert_eq!(first.x, lb.rect().right(), "{name}: edge {} start", r.edge);
        assert!(
            inside_rows(&lb, first.y),
            "{name}: edge {} leaves on a border",
            r.edge
        );
        assert_eq!(last.x + 1, rb.x, "{name}: edge {} end", r.edge);
        assert!(
            inside_rows(&rb, last.y),
            "{name}: edge {} enters on a border",
            r.edge
        );
        assert!(
            first.dirs & LEFT != 0 && last.dirs & RIGHT != 0,
            "{name}: ends open into boxes"
        );
        for pair in r.cells.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            assert_eq!(
                a.x.abs_diff(b.x) + a.y.abs_diff(b.y),
                1,
                "{name}: edge {} jumps",
                r.edge
            );
            let (ab, ba) = if b.x > a.x {
                (RIGHT, LEFT)
            } else if b.x < a.x {
                (LEFT, RIGHT)
            } else if b.y > a.y {
                (DOWN, UP)
            } else {
                (UP, DOWN)
            };
            assert!(
                a.dirs & ab != 0 && b.dirs & ba != 0,
                "{name}: edge {} masks",
                r.edge
            );
        }
        for c in &r.cells {
            assert_eq!(c.dirs.count_ones(), 2, "{name}: edge {} cell {c:?}", r.edge);
            assert!(c.x < l.width && c.y < l.height, "{name}: cell off canvas");
            let here = Rect {
                x: c.x,
                y: c.y,
                width: 1,
                height: 1,
            };
            assert!(
                l.nodes_in(here).is_empty(),
                "{name}: edge {} cell in a box",
                r.edge
            );
        }
        let (ax, ay, dir) = r.arrow.unwrap();
        let expected_arrow = if r.reversed {
            (first.x, first.y, ArrowDir::Left)
        } else {
            (last.x, last.y, ArrowDir::Right)
        };
        assert_eq!(
            (ax, ay, dir),
            expected_arrow,
            "{name}: edge {} arrow",
            r.edge
        );
        let label = r.label.unwrap();
        assert_eq!(label.width, params().label_width);
        for x in label.x..label.x + u32::from(label.width) {
            let on_run = r
                .cells
                .iter()
                .any(|c| (c.x, c.y) == (x, label.y) && c.dirs == LEFT | RIGHT);
            assert!(on_run, "{name}: edge {} label off its line", r.edge);
        }
        assert_eq!(
            label.y, first.y,
            "{name}: edge {} label not at the left end",
            r.edge
        );
    }
}

/// Cells shared by two routes must be plain crossings: one horizontal, one vertical.
fn check_sharing(case: &Case, l: &Layout) {
    let mut at: HashMap<(u32, u32), Vec<u8>> = HashMap::new();
    for r in &l.routes {
        for c in &r.cells {
            at.entry((c.x, c.y)).or_default().push(c.dirs);
        }
    }
    for (cell, masks) in &at {
        if masks.len() > 1 {
            let mut sorted = masks.clone();
            sorted.sort_unstable();
            assert_eq!(
                sorted,
                vec![UP | DOWN, LEFT | RIGHT],
                "{}: cell {cell:?} shared",
                case.name
            );
        }
    }
}

fn check_index(case: &Case, l: &Layout) {
    let name = case.name;
    let merged = l.edge_cells_in(full(l));
    let mut expected: BTreeMap<(u32, u32), (u8, usize)> = BTreeMap::new();
    for (i, r) in l.routes.iter().enumerate() {
        for c in &r.cells {
            let entry = expected.entry((c.y, c.x)).or_insert((0, i));
            entry.0 |= c.dirs;
            entry.1 = entry.1.max(i);
        }
    }
    let got: BTreeMap<(u32, u32), (u8, usize)> = merged
        .iter()
        .map(|c| ((c.y, c.x), (c.dirs, c.route)))
        .collect();
    assert_eq!(got, expected, "{name}: merged cells");

    let by_cell: HashMap<(u32, u32), u8> = merged.iter().map(|c| ((c.x, c.y), c.dirs)).collect();
    let box_side = |x: u32, y: u32| {
        l.nodes
            .iter()
            .any(|b| (b.x == x || b.rect().right() == x + 1) && inside_rows(b, y))
    };
    for c in &merged {
        let neighbours = [
            (RIGHT, c.x.checked_add(1), Some(c.y), LEFT),
            (LEFT, c.x.checked_sub(1), Some(c.y), RIGHT),
            (DOWN, Some(c.x), c.y.checked_add(1), UP),
            (UP, Some(c.x), c.y.checked_sub(1), DOWN),
        ];
        for (dir, nx, ny, back) in neighbours {
            if c.dirs & dir == 0 {
                continue;
            }
            let (nx, ny) = (nx.unwrap(), ny.unwrap());
            let answers = by_cell.get(&(nx, ny)).is_some_and(|d| d & back != 0);
            let into_box = (dir == LEFT || dir == RIGHT) && box_side(nx, ny);
            assert!(answers || into_box, "{name}: cell {c:?} points at nothing");
        }
    }

    // A few windows must agree with the whole canvas clipped to them.
    let mut rng = Rng::new(l.width as u64 + 7);
    for _ in 0..5 {
        let window = Rect {
            x: rng.below(l.width as usize + 1) as u32,
            y: rng.below(l.height as usize + 1) as u32,
            width: rng.below(90) as u32,
            height: rng.below(40) as u32,
        };
        let clipped: Vec<MergedCell> = merged
            .iter()
            .copied()
            .filter(|c| window.contains(c.x, c.y))
            .collect();
        assert_eq!(
            l.edge_cells_in(window),
            clipped,
            "{name}: window {window:?}"
        );
        let mut boxes = l.nodes_in(window);
        boxes.sort_unstable();
        let brute: Vec<usize> = (0..l.nodes.len())
            .filter(|&i| l.nodes[i].rect().intersects(&window))
            .collect();
        assert_eq!(boxes, brute, "{name}: boxes in {window:?}");
    }
}

#[test]
fn every_case_satisfies_the_drawing_invariants() {
    for case in cases() {
        let l = layout(&case.nodes, &case.edges, &params(), None);
        check_boxes(&case, &l);
        check_layers(&case, &l);
        check_routes(&case, &l);
        check_sharing(&case, &l);
        check_index(&case, &l);
    }
}

#[test]
fn invariants_hold_without_labels_or_gaps() {
    let tight = LayoutParams {
        label_width: 0,
        row_gap: 0,
    };
    for case in cases() {
        let l = layout(&case.nodes, &case.edges, &tight, None);
        assert!(l.routes.iter().all(|r| r.label.is_none()), "{}", case.name);
        check_sharing(&case, &l);
        check_index(&case, &l);
    }
}

#[test]
fn the_same_input_gives_the_same_layout() {
    for case in cases() {
        let a = layout(&case.nodes, &case.edges, &params(), None);
        let b = layout(&case.nodes, &case.edges, &params(), None);
        assert_eq!(a, b, "{}", case.name);
    }
}

#[test]
fn the_order_of_input_nodes_does_not_change_the_geometry() {
    for case in cases() {
        let n = case.nodes.len();
        let reversed_nodes: Vec<NodeSpec> = case.nodes.iter().rev().cloned().collect();
        let flip = |i: usize| if i < n { n - 1 - i } else { i };
        let reversed_edges: Vec<EdgeSpec> = case
            .edges
            .iter()
            .map(|e| EdgeSpec {
                from: flip(e.from),
                to: flip(e.to),
            })
            .collect();
        let a = layout(&case.nodes, &case.edges, &params(), None);
        let b = layout(&reversed_nodes, &reversed_edges, &params(), None);
        for i in 0..n {
            assert_eq!(a.nodes[i], b.nodes[flip(i)], "{}: node {i}", case.name);
        }
        assert_eq!(a.routes, b.routes, "{}", case.name);
        assert_eq!((a.width, a.height), (b.width, b.height), "{}", case.name);
    }
}

#[test]
fn laying_out_again_with_the_previous_layout_changes_nothing() {
    for case in cases() {
        let first = layout(&case.nodes, &case.edges, &params(), None);
        let again = layout(&case.nodes, &case.edges, &params(), Some(&first));
        assert_eq!(first, again, "{}", case.name);
    }
}

/// Boxes whose (layer, order) differ between two layouts of the same nodes.
fn moved_boxes(a: &Layout, b: &Layout) -> usize {
    a.nodes
        .iter()
        .zip(&b.nodes)
        .filter(|(x, y)| (x.layer, x.order) != (y.layer, y.order))
        .count()
}

#[test]
fn adding_one_edge_with_the_previous_layout_moves_at_most_five_boxes() {
    for seed in 1..=12 {
        let mut case = random_dag(seed, 100, 150);
        let before = layout(&case.nodes, &case.edges, &params(), None);
        // An edge between existing layers: it cannot lengthen a longest path, so no box has to
        // change layer (one that does would drag its whole downstream along).
        let mut rng = Rng::new(seed + 1000);
        let edge = loop {
            let (from, to) = (rng.below(100), rng.below(100));
            if before.nodes[from].layer < before.nodes[to].layer {
                break EdgeSpec { from, to };
            }
        };
        case.edges.push(edge);
        let after = layout(&case.nodes, &case.edges, &params(), Some(&before));
        let moved = moved_boxes(&before, &after);
        assert!(moved <= 5, "seed {seed}: {moved} boxes moved");
    }
}

#[test]
fn previous_layout_keeps_the_order_when_a_node_is_added() {
    let case = bookinfo();
    let before = layout(&case.nodes, &case.edges, &params(), None);
    let mut nodes = case.nodes.clone();
    nodes.push(fixtures::node("a-new-service", 16));
    let mut edges = case.edges.clone();
    edges.push(EdgeSpec { from: 1, to: 7 });
    let after = layout(&nodes, &edges, &params(), Some(&before));
    assert_eq!(after.nodes[7].layer, 2);
    let kept = |l: &Layout, i: usize| (l.nodes[i].layer, l.nodes[i].y);
    let order_before: Vec<usize> = {
        let mut v: Vec<usize> = (2..6).collect();
        v.sort_by_key(|&i| kept(&before, i));
        v
    };
    let order_after: Vec<usize> = {
        let mut v: Vec<usize> = (2..6).collect();
        v.sort_by_key(|&i| kept(&after, i));
        v
    };
    assert_eq!(order_before, order_after);
}

/// Crossings between edges of adjacent layers, from the boxes' (layer, order).
fn order_crossings(case: &Case, l: &Layout) -> usize {
    let ends: Vec<(usize, usize, usize)> = case
        .edges
        .iter()
        .map(|e| {
            (
                l.nodes[e.from].layer,
                l.nodes[e.from].order,
                l.nodes[e.to].order,
            )
        })
        .collect();
    let mut count = 0;
    for (i, a) in ends.iter().enumerate() {
        for b in &ends[i + 1..] {
            if a.0 == b.0 && (a.1 < b.1 && a.2 > b.2 || a.1 > b.1 && a.2 < b.2) {
                count += 1;
            }
        }
    }
    count
}

#[test]
fn bookinfo_is_drawn_without_crossings() {
    let case = bookinfo();
    let l = layout(&case.nodes, &case.edges, &params(), None);
    assert_eq!(order_crossings(&case, &l), 0);
    let crossings = l
        .edge_cells_in(full(&l))
        .iter()
        .filter(|c| c.dirs == UP | DOWN | LEFT | RIGHT)
        .count();
    assert_eq!(crossings, 0, "\n{}", render(&l, &case.nodes));
}

#[test]
fn barycenter_untangles_a_graph_whose_key_order_is_fully_crossed() {
    // Keys put a0..a5 in order and b0..b5 in order, but a_i feeds b_(5-i) and c_i feeds on
    // b_i: in key order every pair of edges crosses; reversing one layer removes them all.
    let mut nodes = Vec::new();
    let mut pairs = Vec::new();
    for i in 0..6 {
        nodes.push(fixtures::node(&format!("a{i}"), 6));
    }
    for i in 0..6 {
        nodes.push(fixtures::node(&format!("b{i}"), 6));
    }
    for i in 0..6 {
        nodes.push(fixtures::node(&format!("c{i}"), 6));
    }
    for i in 0..6 {
        pairs.push((i, 6 + 5 - i));
        pairs.push((6 + i, 12 + 5 - i));
    }
    let case = Case {
        name: "crossed",
        nodes,
        edges: fixtures::edges(&pairs),
    };
    let l = layout(&case.nodes, &case.edges, &params(), None);
    assert_eq!(order_crossings(&case, &l), 0);
}

fn bookinfo_layout() -> Layout {
    let case = bookinfo();
    layout(&case.nodes, &case.edges, &params(), None)
}

fn key_index(key: &str) -> usize {
    fixtures::BOOKINFO_KEYS
        .iter()
        .position(|k| *k == key)
        .unwrap()
}

#[test]
fn arrow_keys_move_to_the_expected_bookinfo_node() {
    let l = bookinfo_layout();
    let all = |_: usize| true;
    let go = |from: &str, dir| neighbour_in_direction(&l, key_index(from), dir, &all);
    let name = |i: Option<usize>| i.map(|i| fixtures::BOOKINFO_KEYS[i]);
    assert_eq!(name(go("gateway", Direction::Right)), Some("productpage"));
    assert_eq!(name(go("reviews-v1", Direction::Down)), Some("reviews-v2"));
    assert_eq!(name(go("reviews-v2", Direction::Up)), Some("reviews-v1"));
    let left_of_ratings = name(go("ratings", Direction::Left)).unwrap();
    assert!(left_of_ratings.starts_with("reviews"), "{left_of_ratings}");
    let top = (0..l.nodes.len())
        .min_by_key(|&i| 2 * l.nodes[i].y + u32::from(l.nodes[i].height))
        .unwrap();
    assert_eq!(neighbour_in_direction(&l, top, Direction::Up, &all), None);
}

#[test]
fn arrow_keys_skip_ineligible_nodes_and_fall_back_to_the_next_layer() {
    let l = bookinfo_layout();
    let not_v2 = |i: usize| i != key_index("reviews-v2");
    let down = neighbour_in_direction(&l, key_index("reviews-v1"), Direction::Down, &not_v2);
    assert_eq!(down, Some(key_index("reviews-v3")));
    // From the top box of layer 2, Right has only ratings, which may be outside the cone.
    let right = neighbour_in_direction(&l, key_index("details"), Direction::Right, &|_| true);
    assert_eq!(right, Some(key_index("ratings")));
    assert_eq!(
        neighbour_in_direction(&l, 99, Direction::Left, &|_| true),
        None
    );
}

#[test]
fn an_empty_graph_gives_an_empty_canvas() {
    let l = layout(&[], &[], &params(), None);
    assert_eq!((l.width, l.height), (0, 0));
    assert!(l
        .edge_cells_in(Rect {
            x: 0,
            y: 0,
            width: 250,
            height: 80
        })
        .is_empty());
    assert!(l
        .nodes_in(Rect {
            x: 0,
            y: 0,
            width: u32::MAX,
            height: u32::MAX
        })
        .is_empty());
}

#[test]
fn a_box_is_tall_enough_for_its_ports() {
    let case = bookinfo();
    let l = layout(&case.nodes, &case.edges, &params(), None);
    assert_eq!(l.nodes[key_index("productpage")].height, 6);
    assert_eq!(l.nodes[key_index("ratings")].height, 4);
    assert_eq!(l.nodes[key_index("details")].height, 3);
}

/// 2,000 nodes and 3,000 edges in three shapes: edges between nearby nodes of a hidden order
/// (deep, many dummies), between any two nodes, and between consecutive tiers of a mesh.
fn big_graphs() -> Vec<Case> {
    let local = random_dag(42, 2000, 3000);
    let mut rng = Rng::new(43);
    let mut uniform = random_dag(43, 2000, 0);
    uniform.name = "uniform";
    uniform.edges = (0..3000)
        .map(|_| {
            let (a, b) = (rng.below(2000), rng.below(2000));
            EdgeSpec {
                from: a.min(b),
                to: a.max(b),
            }
        })
        .collect();
    let mut tiered = random_dag(44, 2000, 0);
    tiered.name = "tiered";
    tiered.edges = (0..3000)
        .map(|_| {
            let tier = rng.below(7);
            let pick = |t: usize, rng: &mut Rng| t * 250 + rng.below(250);
            let from = pick(tier, &mut rng);
            let to = pick(tier + 1 + rng.below(2).min(6 - tier), &mut rng);
            EdgeSpec { from, to }
        })
        .collect();
    vec![local, uniform, tiered]
}

#[test]
#[ignore = "prints timings; run in release with --ignored --nocapture"]
fn lays_out_two_thousand_nodes() {
    for case in big_graphs() {
        let start = std::time::Instant::now();
        let l = layout(&case.nodes, &case.edges, &params(), None);
        let took = start.elapsed();
        let window = Rect {
            x: l.width / 2,
            y: l.height / 2,
            width: 250,
            height: 80,
        };
        let start = std::time::Instant::now();
        let cells = l.edge_cells_in(window);
        let window_took = start.elapsed();
        let start = std::time::Instant::now();
        let again = layout(&case.nodes, &case.edges, &params(), Some(&l));
        println!(
            "{}: layout {took:?}, again with previous {:?}, {}x{} canvas, {} cells in a window in {window_took:?}",
            case.name,
            start.elapsed(),
            l.width,
            l.height,
            cells.len(),
        );
        assert_eq!(again, l);
    }
}

#[test]
#[ignore = "prints drawings for a person to look at"]
fn prints_some_drawings() {
    for case in cases().into_iter().filter(|c| c.nodes.len() <= 60) {
        let l = layout(&case.nodes, &case.edges, &params(), None);
        println!(
            "== {} ({}x{})\n{}\n",
            case.name,
            l.width,
            l.height,
            render(&l, &case.nodes)
        );
    }
}

#[test]
fn a_chain_is_drawn_with_straight_edges() {
    let case = cases().into_iter().find(|c| c.name == "chain").unwrap();
    let l = layout(&case.nodes, &case.edges, &params(), None);
    for r in &l.routes {
        assert!(
            r.cells.iter().all(|c| c.y == r.cells[0].y),
            "edge {} bends",
            r.edge
        );
    }
}

#[test]
fn giant_and_zero_width_boxes_do_not_panic() {
    let nodes = vec![
        NodeSpec {
            key: "giant".into(),
            width: u16::MAX,
            min_height: u16::MAX,
        },
        NodeSpec {
            key: "flat".into(),
            width: 0,
            min_height: 0,
        },
        NodeSpec {
            key: "tall".into(),
            width: 3,
            min_height: u16::MAX,
        },
    ];
    let list = fixtures::edges(&[(0, 1), (1, 2), (0, 2), (2, 0), (0, 1)]);
    let l = layout(&nodes, &list, &params(), None);
    let again = layout(&nodes, &list, &params(), Some(&l));
    assert_eq!(l, again);
    assert_eq!(l.routes.len(), 5);
    let window = Rect {
        x: l.width / 2,
        y: l.height / 2,
        width: 250,
        height: 80,
    };
    let _ = l.edge_cells_in(window);
    let _ = l.nodes_in(window);
}
