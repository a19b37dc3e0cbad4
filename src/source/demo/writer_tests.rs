//! The demo's writer as a form uses it: previews checked as a cluster would check them,
//! applies refused when the objects moved, undo, read-only sessions.

use super::rule_tests::{apply, mesh_with_window, request, shift, versions};
use super::*;
use crate::mesh::rules::model::{Breaker, RuleChange};
use crate::source::write::WriteError;

#[test]
fn a_preview_shows_the_objects_as_the_store_would_hold_them() {
    let mesh = mesh_with_window(60);
    let writer = mesh.writer();
    let preview = writer
        .preview(&request("reviews", shift(&[("v1", 80), ("v3", 20)])))
        .unwrap();
    assert_eq!(preview.objects.len(), 2);
    for object in &preview.objects {
        assert!(object.before.is_none());
        let after = object.after.as_ref().unwrap();
        assert_eq!(after["metadata"]["generation"], 1);
        assert!(after["metadata"]["uid"].as_str().is_some());
    }
    let applied = writer.apply(&preview).unwrap();
    for (planned, stored) in preview.objects.iter().zip(&applied.objects) {
        let (planned, stored) = (
            planned.after.as_ref().unwrap(),
            stored.after.as_ref().unwrap(),
        );
        assert_eq!(planned["spec"], stored["spec"]);
        assert_eq!(planned["metadata"]["uid"], stored["metadata"]["uid"]);
        assert!(stored["metadata"]["resourceVersion"].as_str().is_some());
    }
}

#[test]
fn a_preview_refuses_a_subset_that_selects_no_pod_naming_the_field() {
    let mesh = mesh_with_window(60);
    let mut wrong = request("reviews", shift(&[("v9", 100)]));
    wrong.versions = versions(&["v9"]);
    let error = mesh.writer().preview(&wrong).unwrap_err();
    let WriteError::Invalid { object, causes } = error else {
        panic!("not refused as invalid: {error:?}");
    };
    assert_eq!(object, "DestinationRule bookinfo/reviews");
    assert!(
        causes.iter().any(|c| c.message.starts_with("IST0173")),
        "{causes:?}"
    );
}

#[test]
fn a_preview_refuses_what_the_crd_schema_refuses() {
    let mesh = mesh_with_window(60);
    let breaker = RuleChange::Breaker(Breaker {
        interval: Some("soon".into()),
        ..Breaker::default()
    });
    let error = mesh
        .writer()
        .preview(&request("reviews", breaker))
        .unwrap_err();
    let WriteError::Invalid { causes, .. } = error else {
        panic!("not refused as invalid: {error:?}");
    };
    assert!(
        causes
            .iter()
            .any(|c| c.path.contains("outlierDetection.interval")),
        "{causes:?}"
    );
}

#[test]
fn an_apply_after_the_objects_changed_is_refused() {
    let mesh = mesh_with_window(60);
    let writer = mesh.writer();
    let first = writer
        .preview(&request("reviews", shift(&[("v1", 80), ("v3", 20)])))
        .unwrap();
    let second = writer
        .preview(&request("reviews", shift(&[("v1", 50), ("v3", 50)])))
        .unwrap();
    writer.apply(&first).unwrap();
    assert!(matches!(
        writer.apply(&second),
        Err(WriteError::Changed { .. })
    ));
}

#[test]
fn undo_restores_the_objects_exactly_and_deletes_what_was_created() {
    let mesh = mesh_with_window(60);
    let writer = mesh.writer();
    let created = apply(&mesh, "reviews", shift(&[("v1", 80), ("v3", 20)]));
    let edited = apply(&mesh, "reviews", shift(&[("v1", 50), ("v3", 50)]));
    writer.undo(&edited).unwrap();
    let store = writer.store().lock();
    for object in &created.objects {
        let after = object.after.as_ref().unwrap();
        let now = store.get(&ObjectKey::of(after)).unwrap();
        assert_eq!(now["spec"], after["spec"]);
        assert_eq!(now["metadata"]["uid"], after["metadata"]["uid"]);
        assert_eq!(now["metadata"]["labels"], after["metadata"]["labels"]);
    }
    drop(store);
    writer.undo(&created).unwrap();
    let store = writer.store().lock();
    assert!(store.list("VirtualService").is_empty());
    assert!(store.list("DestinationRule").is_empty());
}

#[test]
fn a_read_only_writer_refuses_every_command_and_writes_nothing() {
    let mesh = mesh_with_window(60);
    let writer = DemoWriter::new(mesh.writer().store().clone(), true);
    assert_eq!(writer.check_access("bookinfo"), Err(WriteError::ReadOnly));
    let request = request("reviews", shift(&[("v1", 80), ("v3", 20)]));
    assert_eq!(writer.preview(&request), Err(WriteError::ReadOnly));
    let preview = mesh.writer().preview(&request).unwrap();
    assert_eq!(writer.apply(&preview), Err(WriteError::ReadOnly));
    assert!(writer.store().lock().list("VirtualService").is_empty());
    assert!(mesh.writer().check_access("bookinfo").is_ok());
}
