//! The tree navigator's model on the demo mesh: nesting, health marks, filter, keys, and
//! the graph node each entry stands for.

use meshtui::app::tree::{graph_node_for, TreeEntry, TreeLevel, TreeNavigator, TreeTarget};
use meshtui::mesh::inventory::PodPhase;
use meshtui::mesh::{build_graph, GraphOptions, GraphType, Health, Inventory, MeshGraph};
use meshtui::source::demo::{DemoMesh, DemoOptions};

fn demo(graph_type: GraphType) -> (Inventory, MeshGraph) {
    let snapshot = DemoMesh::new(DemoOptions::default()).snapshot();
    let options = GraphOptions {
        graph_type,
        ..GraphOptions::default()
    };
    let graph = build_graph(&snapshot.samples, &snapshot.inventory, &options);
    (snapshot.inventory, graph)
}

fn labels(navigator: &TreeNavigator) -> Vec<String> {
    navigator
        .rows()
        .iter()
        .map(|row| {
            let entry = navigator.entry(&row.path).map(|e| e.label.clone());
            format!("{}{}", "  ".repeat(row.depth), entry.unwrap_or_default())
        })
        .collect()
}

fn select_label(navigator: &mut TreeNavigator, label: &str) {
    let path = navigator
        .rows()
        .into_iter()
        .map(|r| r.path)
        .find(|p| navigator.entry(p).is_some_and(|e| e.label == label));
    navigator.selected = path.unwrap_or_else(|| panic!("no row {label}: {:?}", labels(navigator)));
}

#[test]
fn the_tree_nests_cluster_namespace_app_workload_and_pod() {
    let (inventory, graph) = demo(GraphType::VersionedApp);
    let mut navigator = TreeNavigator::new(&inventory, &graph, None);
    let top = labels(&navigator);
    assert!(top.iter().any(|l| l == "  bookinfo"), "{top:?}");
    select_label(&mut navigator, "bookinfo");
    navigator.expand(40);
    select_label(&mut navigator, "reviews");
    navigator.expand(40);
    select_label(&mut navigator, "reviews-v2");
    navigator.expand(40);
    let rows = labels(&navigator);
    let reviews = rows
        .iter()
        .position(|l| l == "    reviews")
        .unwrap_or(usize::MAX);
    let below: Vec<&str> = rows
        .iter()
        .skip(reviews + 1)
        .take_while(|l| l.starts_with("      "))
        .map(|l| l.trim_start())
        .collect();
    assert_eq!(below.first(), Some(&"reviews-v1"), "{rows:?}");
    assert_eq!(below.get(1), Some(&"reviews-v2"), "{rows:?}");
    assert!(
        below.get(2).is_some_and(|l| l.starts_with("reviews-v2-")),
        "a pod of reviews-v2 follows it: {rows:?}"
    );
    assert_eq!(below.last(), Some(&"reviews-v3"), "{rows:?}");
}

#[test]
fn a_workload_whose_pods_are_not_ready_is_marked_and_so_are_its_ancestors() {
    let (mut inventory, graph) = demo(GraphType::VersionedApp);
    for pod in inventory
        .pods
        .iter_mut()
        .filter(|p| p.workload.as_deref() == Some("ratings-v1"))
    {
        pod.phase = PodPhase::Failed;
        pod.ready = false;
    }
    for workload in inventory
        .workloads
        .iter_mut()
        .filter(|w| w.name == "ratings-v1")
    {
        workload.pods_ready = 0;
    }
    let navigator = TreeNavigator::new(&inventory, &graph, None);
    let path_to = |labels: &[&str]| -> Option<&TreeEntry> {
        let mut entries = &navigator.roots;
        let mut found = None;
        for label in labels {
            let entry = entries.iter().find(|e| e.label == *label)?;
            entries = &entry.children;
            found = Some(entry);
        }
        found
    };
    let cluster = navigator
        .roots
        .first()
        .map(|r| r.label.clone())
        .unwrap_or_default();
    for labels in [
        vec![cluster.as_str()],
        vec![cluster.as_str(), "bookinfo"],
        vec![cluster.as_str(), "bookinfo", "ratings"],
        vec![cluster.as_str(), "bookinfo", "ratings", "ratings-v1"],
    ] {
        assert_eq!(
            path_to(&labels).map(|e| e.health),
            Some(Health::Failure),
            "{labels:?}"
        );
    }
    let details = path_to(&[cluster.as_str(), "bookinfo", "details"]).map(|e| e.health);
    assert!(
        details.is_some_and(|h| h < Health::Failure),
        "details is untouched: {details:?}"
    );
}

#[test]
fn opening_on_a_graph_selection_reveals_and_selects_its_workload() {
    let (inventory, graph) = demo(GraphType::VersionedApp);
    let key = graph
        .nodes()
        .find(|(_, n)| n.workload.as_deref() == Some("ratings-v1"))
        .map(|(_, n)| n.key.clone());
    let navigator = TreeNavigator::new(&inventory, &graph, key.as_ref());
    assert_eq!(
        navigator
            .entry(&navigator.selected)
            .map(|e| e.label.as_str()),
        Some("ratings-v1")
    );
    assert!(labels(&navigator).contains(&"      ratings-v1".to_owned()));
}

#[test]
fn a_filter_shows_matches_with_their_ancestors_only() {
    let (inventory, graph) = demo(GraphType::VersionedApp);
    let mut navigator = TreeNavigator::new(&inventory, &graph, None);
    navigator.filter = "RATINGS-V1".to_owned();
    let rows = labels(&navigator);
    let cluster = navigator
        .roots
        .first()
        .map(|r| r.label.clone())
        .unwrap_or_default();
    assert_eq!(
        rows,
        vec![
            cluster,
            "  bookinfo".to_owned(),
            "    ratings".to_owned(),
            "      ratings-v1".to_owned(),
        ]
    );
}

#[test]
fn left_closes_then_climbs_and_right_opens_then_descends() {
    let (inventory, graph) = demo(GraphType::VersionedApp);
    let mut navigator = TreeNavigator::new(&inventory, &graph, None);
    select_label(&mut navigator, "bookinfo");
    assert!(!navigator.is_expanded(&navigator.selected.clone()));
    navigator.expand(40);
    assert!(navigator.is_expanded(&navigator.selected.clone()));
    navigator.expand(40);
    assert_eq!(
        navigator.entry(&navigator.selected).map(|e| e.level),
        Some(TreeLevel::App),
        "a second right steps into the first app"
    );
    navigator.collapse(40);
    assert_eq!(
        navigator
            .entry(&navigator.selected)
            .map(|e| e.label.as_str()),
        Some("bookinfo"),
        "left on a closed app climbs to its namespace"
    );
    navigator.collapse(40);
    assert!(!navigator.is_expanded(&navigator.selected.clone()));
}

#[test]
fn moving_past_the_screen_scrolls_just_enough_to_keep_the_selection_in_view() {
    let (inventory, graph) = demo(GraphType::VersionedApp);
    let mut navigator = TreeNavigator::new(&inventory, &graph, None);
    select_label(&mut navigator, "bookinfo");
    navigator.expand(3);
    navigator.move_selection(-100, 3);
    assert_eq!(navigator.offset, 0);
    navigator.move_selection(5, 3);
    let index = navigator
        .rows()
        .iter()
        .position(|r| r.path == navigator.selected)
        .unwrap_or(usize::MAX);
    assert_eq!(index, 5);
    assert_eq!(navigator.offset, 3, "row 5 is the last of three on screen");
    navigator.move_selection(-1, 3);
    assert_eq!(
        navigator.offset, 3,
        "moving back up inside the screen does not scroll"
    );
}

#[test]
fn choosing_a_workload_finds_its_node_in_every_graph_type_that_has_one() {
    let target = TreeTarget::Workload {
        cluster: String::new(),
        namespace: "bookinfo".to_owned(),
        workload: "reviews-v2".to_owned(),
        app: Some("reviews".to_owned()),
    };
    for (graph_type, expected) in [
        (GraphType::Workload, Some("reviews-v2")),
        (GraphType::VersionedApp, Some("reviews")),
        (GraphType::App, Some("reviews")),
    ] {
        let (_, graph) = demo(graph_type);
        let key = graph_node_for(&graph, &target, true);
        let node = key
            .as_ref()
            .and_then(|k| graph.node_index(k))
            .and_then(|i| graph.node(i));
        assert_eq!(node.map(|n| n.name.as_str()), expected, "{graph_type:?}");
        if graph_type != GraphType::App {
            assert_eq!(node.and_then(|n| n.workload.as_deref()), Some("reviews-v2"));
        }
    }
}
