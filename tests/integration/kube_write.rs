//! Rule round trips through the real `kube::Client` against the emulator, by way of the
//! writer's command channel as the app drives it: form input, preview (the server's dry
//! run; nothing stored), apply (server-side apply as `meshtui`), conflicts with other
//! managers and the explicit force, undo; and every refusal: the schema before anything
//! is sent, the server's 422, RBAC, an object changed since the preview, `--readonly`.

use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams};
use serde_json::{json, Value};
use tokio::sync::mpsc;

use meshtui::mesh::rules::model::{Breaker, RuleChange, Split, Target, Timeouts, Version};
use meshtui::mesh::rules::render::ObjectChange;
use meshtui::mesh::rules::Violation;
use meshtui::source::kube::KubeWriter;
use meshtui::source::write::{
    Applied, FieldOwner, Preview, RuleRequest, RuleWriter, WriteCommand, WriteError, WriteEvent,
};

use crate::support::kube_emulator::{bookinfo_objects, EmulatorOptions, IstioApis, KubeEmulator};
use crate::support::yaml_diff::yaml_diff;

const REVIEWS: &str = "reviews.bookinfo.svc.cluster.local";

/// The writer as the app runs it: commands in, events out.
struct Writer {
    commands: mpsc::Sender<WriteCommand>,
    events: mpsc::Receiver<WriteEvent>,
    next_id: u64,
}

impl Writer {
    fn start(writer: KubeWriter) -> Self {
        let (commands, receiver) = mpsc::channel(4);
        let (sender, events) = mpsc::channel(4);
        tokio::spawn(Box::new(writer).run(sender, receiver));
        Writer {
            commands,
            events,
            next_id: 0,
        }
    }

    async fn send(&mut self, command: impl FnOnce(u64) -> WriteCommand) -> WriteEvent {
        self.next_id += 1;
        self.commands.send(command(self.next_id)).await.unwrap();
        self.events.recv().await.unwrap()
    }

    async fn check_access(&mut self, namespace: &str) -> Result<(), WriteError> {
        let namespace = namespace.to_owned();
        match self
            .send(|id| WriteCommand::CheckAccess { id, namespace })
            .await
        {
            WriteEvent::Access { id, result } if id == self.next_id => result,
            other => panic!("{other:?}"),
        }
    }

    async fn preview(&mut self, request: RuleRequest) -> Result<Preview, WriteError> {
        match self.send(|id| WriteCommand::Preview { id, request }).await {
            WriteEvent::Previewed { id, result } if id == self.next_id => result,
            other => panic!("{other:?}"),
        }
    }

    async fn apply(&mut self, preview: &Preview, force: bool) -> Result<Applied, WriteError> {
        let preview = preview.clone();
        match self
            .send(|id| WriteCommand::Apply { id, preview, force })
            .await
        {
            WriteEvent::Applied { id, result } if id == self.next_id => result,
            other => panic!("{other:?}"),
        }
    }

    async fn undo(&mut self, applied: &Applied) -> Result<(), WriteError> {
        let applied = applied.clone();
        match self.send(|id| WriteCommand::Undo { id, applied }).await {
            WriteEvent::Undone { id, result } if id == self.next_id => result,
            other => panic!("{other:?}"),
        }
    }
}

fn request(service: &str, versions: &[&str], change: RuleChange) -> RuleRequest {
    RuleRequest {
        target: Target {
            namespace: "bookinfo".into(),
            service: service.into(),
        },
        versions: versions
            .iter()
            .map(|v| Version::new(v, "version"))
            .collect(),
        change,
    }
}

fn shift(weights: &[(&str, u32)]) -> RuleRequest {
    let split = Split {
        weights: weights.iter().map(|(v, w)| ((*v).to_owned(), *w)).collect(),
    };
    request("reviews", &["v1", "v2", "v3"], RuleChange::Shift(split))
}

fn timeouts(timeout: Option<&str>, attempts: Option<u32>) -> RuleRequest {
    request(
        "reviews",
        &["v1", "v2", "v3"],
        RuleChange::Timeouts(Timeouts {
            timeout: timeout.map(str::to_owned),
            attempts,
            ..Timeouts::default()
        }),
    )
}

fn stored(emulator: &KubeEmulator, kind: &str, name: &str) -> Option<Value> {
    emulator.object("networking.istio.io/v1", kind, "bookinfo", name)
}

fn manager_names(object: &Value) -> Vec<String> {
    object["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{} {}",
                e["manager"].as_str().unwrap(),
                e["operation"].as_str().unwrap()
            )
        })
        .collect()
}

fn virtual_services(emulator: &KubeEmulator) -> Api<DynamicObject> {
    let resource = ApiResource {
        group: "networking.istio.io".into(),
        version: "v1".into(),
        api_version: "networking.istio.io/v1".into(),
        kind: "VirtualService".into(),
        plural: "virtualservices".into(),
    };
    Api::namespaced_with(emulator.client(), "bookinfo", &resource)
}

/// Another client writes `spec.http` as `kubectl edit` does (a merge patch, an update).
async fn edit_routes_as_kubectl(emulator: &KubeEmulator, http: Value) {
    let params = PatchParams {
        field_manager: Some("kubectl-edit".into()),
        ..PatchParams::default()
    };
    virtual_services(emulator)
        .patch(
            "reviews",
            &params,
            &Patch::Merge(json!({"spec": {"http": http}})),
        )
        .await
        .unwrap();
}

fn route(weights: &[(&str, u32)]) -> Value {
    Value::Array(
        weights
            .iter()
            .map(|(v, w)| json!({"destination": {"host": REVIEWS, "subset": v}, "weight": w}))
            .collect(),
    )
}

#[tokio::test]
async fn a_shift_is_previewed_applied_forced_over_another_manager_and_undone_with_the_stored_objects_as_expected(
) {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let mut writer = Writer::start(KubeWriter::new(emulator.client()));
    assert_eq!(writer.check_access("bookinfo").await, Ok(()));

    // Preview: the VirtualService is new (the DestinationRule has every subset already).
    let version = emulator.resource_version();
    let preview = writer
        .preview(shift(&[("v1", 80), ("v2", 0), ("v3", 20)]))
        .await
        .unwrap();
    assert_eq!(
        emulator.resource_version(),
        version,
        "a preview stores nothing"
    );
    assert_eq!(stored(&emulator, "VirtualService", "reviews"), None);
    assert_eq!(preview.objects.len(), 1);
    let planned = &preview.objects[0];
    assert_eq!(planned.before, None);
    let diff = yaml_diff(None, planned.after.as_ref());
    for line in [
        "+kind: VirtualService",
        "+    app.kubernetes.io/managed-by: meshtui",
        "+  - name: meshtui-default",
        "+      weight: 80",
        "+        subset: v3",
        "+      weight: 20",
    ] {
        assert!(diff.iter().any(|l| l == line), "{line} not in {diff:#?}");
    }
    assert!(diff.iter().all(|l| l.starts_with('+')), "{diff:#?}");

    // Apply: stored exactly as previewed, owned by meshtui.
    let applied = writer.apply(&preview, false).await.unwrap();
    let created = stored(&emulator, "VirtualService", "reviews").unwrap();
    assert_eq!(
        created["spec"],
        json!({"hosts": ["reviews"], "http": [{"name": "meshtui-default", "route": route(&[("v1", 80), ("v3", 20)])}]})
    );
    assert_eq!(
        created["metadata"]["labels"],
        json!({"app.kubernetes.io/managed-by": "meshtui"})
    );
    let mut entry = created["metadata"]["managedFields"][0].clone();
    entry.as_object_mut().unwrap().remove("time");
    assert_eq!(
        created["metadata"]["managedFields"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        entry,
        json!({"manager": "meshtui", "operation": "Apply", "apiVersion": "networking.istio.io/v1",
               "fieldsType": "FieldsV1", "fieldsV1": {
                   "f:metadata": {"f:labels": {"f:app.kubernetes.io/managed-by": {}}},
                   "f:spec": {"f:hosts": {}, "f:http": {}}}})
    );
    assert_eq!(applied.objects.len(), 1);
    assert_eq!(
        applied.objects[0].after.as_ref().unwrap()["spec"],
        created["spec"]
    );

    // Someone adds a timeout with kubectl edit: the routes are theirs now.
    let mut edited = created["spec"]["http"].clone();
    edited[0]["timeout"] = json!("10s");
    edit_routes_as_kubectl(&emulator, edited).await;
    let theirs = stored(&emulator, "VirtualService", "reviews").unwrap();

    // A new shift keeps their timeout; the diff shows the weights (and the generation
    // the server would give).
    let preview = writer
        .preview(shift(&[("v1", 50), ("v3", 50)]))
        .await
        .unwrap();
    let planned = &preview.objects[0];
    assert_eq!(planned.before.as_ref().unwrap()["spec"], theirs["spec"]);
    assert_eq!(
        yaml_diff(planned.before.as_ref(), planned.after.as_ref()),
        [
            "-  generation: 2",
            "+  generation: 3",
            "-      weight: 80",
            "+      weight: 50",
            "-      weight: 20",
            "+      weight: 50"
        ]
    );

    // Without force, the conflict names the owner of the routes; nothing is written.
    let version = emulator.resource_version();
    let refused = writer.apply(&preview, false).await.unwrap_err();
    match &refused {
        WriteError::Conflict {
            object,
            owners,
            message,
        } => {
            assert_eq!(object, "VirtualService bookinfo/reviews");
            assert_eq!(
                owners,
                &[FieldOwner {
                    field: ".spec.http".into(),
                    manager: "kubectl-edit".into()
                }]
            );
            assert!(
                message.contains("conflict with \"kubectl-edit\""),
                "{message}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(emulator.resource_version(), version);

    // Forced on the user's word: the weights change, their timeout stays, meshtui owns
    // the routes again.
    let forced = writer.apply(&preview, true).await.unwrap();
    let taken = stored(&emulator, "VirtualService", "reviews").unwrap();
    let mut expected = route(&[("v1", 50), ("v3", 50)]);
    expected = json!([{"name": "meshtui-default", "route": expected, "timeout": "10s"}]);
    assert_eq!(taken["spec"]["http"], expected);
    assert_eq!(manager_names(&taken), ["meshtui Apply"]);

    // Undo puts back their object exactly.
    writer.undo(&forced).await.unwrap();
    let back = stored(&emulator, "VirtualService", "reviews").unwrap();
    assert_eq!(back["spec"], theirs["spec"]);
    assert_eq!(back["metadata"]["labels"], theirs["metadata"]["labels"]);
    assert_eq!(back["metadata"].get("annotations"), None);

    // The first apply cannot be undone any more: kubectl-edit changed the object since.
    assert_eq!(
        writer.undo(&applied).await,
        Err(WriteError::Changed {
            object: "VirtualService bookinfo/reviews".into()
        })
    );
    assert_eq!(
        stored(&emulator, "VirtualService", "reviews").unwrap()["spec"],
        theirs["spec"]
    );
}

#[tokio::test]
async fn undo_deletes_what_an_apply_created() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let mut writer = Writer::start(KubeWriter::new(emulator.client()));
    let details = request(
        "details",
        &["v1"],
        RuleChange::Shift(Split {
            weights: vec![("v1".into(), 100)],
        }),
    );
    let preview = writer.preview(details).await.unwrap();
    let kinds: Vec<&str> = preview
        .objects
        .iter()
        .map(|o| match &o.change {
            ObjectChange::Apply(object) => object["kind"].as_str().unwrap(),
            ObjectChange::Delete { kind, .. } => kind.as_str(),
        })
        .collect();
    assert_eq!(
        kinds,
        ["DestinationRule", "VirtualService"],
        "subsets before the routes naming them"
    );
    let applied = writer.apply(&preview, false).await.unwrap();
    assert_eq!(
        stored(&emulator, "DestinationRule", "details").unwrap()["spec"],
        json!({"host": "details", "subsets": [{"name": "v1", "labels": {"version": "v1"}}]})
    );
    assert_eq!(
        stored(&emulator, "VirtualService", "details").unwrap()["spec"]["http"],
        json!([{"name": "meshtui-default", "route": [{"destination": {"host": "details.bookinfo.svc.cluster.local", "subset": "v1"}}]}])
    );
    writer.undo(&applied).await.unwrap();
    assert_eq!(stored(&emulator, "VirtualService", "details"), None);
    assert_eq!(stored(&emulator, "DestinationRule", "details"), None);
}

#[tokio::test]
async fn a_rule_written_by_kubectl_is_edited_in_place_and_undo_brings_back_the_fields_meshtui_removed(
) {
    let mut objects = bookinfo_objects();
    let kubectls = json!({
        "apiVersion": "networking.istio.io/v1", "kind": "VirtualService",
        "metadata": {"name": "reviews", "namespace": "bookinfo", "labels": {"app": "reviews"},
                     "annotations": {"owner": "shop-team"}},
        "spec": {"hosts": ["reviews"], "http": [{
            "route": [{"destination": {"host": "reviews", "subset": "v1"}}],
            "timeout": "5s"
        }]}
    });
    objects.push(kubectls.clone());
    let emulator = KubeEmulator::with_objects(objects).await;
    let mut writer = Writer::start(KubeWriter::new(emulator.client()));

    // Retries instead of the timeout: meshtui edits kubectl's route, removing its timeout.
    let preview = writer.preview(timeouts(None, Some(3))).await.unwrap();
    assert_eq!(preview.objects.len(), 1);
    assert_eq!(
        yaml_diff(
            preview.objects[0].before.as_ref(),
            preview.objects[0].after.as_ref()
        ),
        [
            "-  generation: 1",
            "+  generation: 2",
            "-  - route:",
            "+  - retries:",
            "+      attempts: 3",
            "+    route:",
            "-    timeout: 5s"
        ]
    );
    let refused = writer.apply(&preview, false).await.unwrap_err();
    assert!(
        matches!(&refused, WriteError::Conflict { owners, .. }
            if owners == &[FieldOwner { field: ".spec.http".into(), manager: "kubectl-client-side-apply".into() }]),
        "{refused:?}"
    );
    let applied = writer.apply(&preview, true).await.unwrap();
    let edited = stored(&emulator, "VirtualService", "reviews").unwrap();
    assert_eq!(
        edited["spec"]["http"],
        json!([{"route": [{"destination": {"host": "reviews", "subset": "v1"}}], "retries": {"attempts": 3}}])
    );
    assert_eq!(
        edited["metadata"]["annotations"],
        kubectls["metadata"]["annotations"]
    );

    writer.undo(&applied).await.unwrap();
    let back = stored(&emulator, "VirtualService", "reviews").unwrap();
    assert_eq!(back["spec"], kubectls["spec"]);
    assert_eq!(back["metadata"]["labels"], kubectls["metadata"]["labels"]);
    assert_eq!(
        back["metadata"]["annotations"],
        kubectls["metadata"]["annotations"]
    );
}

#[tokio::test]
async fn a_reset_deletes_the_routes_meshtui_created_and_undo_creates_them_again() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let mut writer = Writer::start(KubeWriter::new(emulator.client()));
    let preview = writer
        .preview(shift(&[("v1", 50), ("v2", 50)]))
        .await
        .unwrap();
    writer.apply(&preview, false).await.unwrap();
    let created = stored(&emulator, "VirtualService", "reviews").unwrap();

    let reset = writer
        .preview(request("reviews", &["v1", "v2", "v3"], RuleChange::Reset))
        .await
        .unwrap();
    assert_eq!(
        reset.objects.iter().map(|o| &o.change).collect::<Vec<_>>(),
        [&ObjectChange::Delete {
            kind: "VirtualService".into(),
            namespace: "bookinfo".into(),
            name: "reviews".into()
        }]
    );
    assert_eq!(reset.objects[0].after, None);
    assert!(
        stored(&emulator, "VirtualService", "reviews").is_some(),
        "the preview deleted nothing"
    );
    let applied = writer.apply(&reset, false).await.unwrap();
    assert_eq!(stored(&emulator, "VirtualService", "reviews"), None);

    writer.undo(&applied).await.unwrap();
    let again = stored(&emulator, "VirtualService", "reviews").unwrap();
    assert_eq!(again["spec"], created["spec"]);
    assert_eq!(again["metadata"]["labels"], created["metadata"]["labels"]);
    assert_ne!(
        again["metadata"]["uid"], created["metadata"]["uid"],
        "a new object"
    );
}

#[tokio::test]
async fn an_object_the_schema_refuses_is_refused_naming_the_field_before_anything_is_sent() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let mut writer = Writer::start(KubeWriter::new(emulator.client()));
    let refused = writer
        .preview(timeouts(Some("500us"), None))
        .await
        .unwrap_err();
    assert_eq!(
        refused,
        WriteError::Invalid {
            object: "VirtualService bookinfo/reviews".into(),
            causes: vec![Violation {
                path: "spec.http[0].timeout".into(),
                message: "Invalid value: \"string\": must be a valid duration greater than 1ms"
                    .into(),
            }],
        }
    );
    assert_eq!(
        emulator.writes(),
        Vec::<String>::new(),
        "only reads were sent"
    );
}

#[tokio::test]
async fn a_refusal_only_the_server_knows_comes_back_as_its_422_naming_the_field() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    // The cluster runs an Istio stricter than the one meshtui embeds, and the user may
    // not read its CRDs: only the server can tell.
    let mut crd = emulator
        .object(
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
            "",
            "virtualservices.networking.istio.io",
        )
        .unwrap();
    let timeout = crd
        .pointer_mut("/spec/versions/0/schema/openAPIV3Schema/properties/spec/properties/http/items/properties/timeout/x-kubernetes-validations")
        .unwrap();
    timeout.as_array_mut().unwrap().push(json!({
        "rule": "duration(self) <= duration('1s')",
        "message": "must be at most 1s"
    }));
    emulator.replace(crd);
    emulator.forbid_crds();
    let mut writer = Writer::start(KubeWriter::new(emulator.client()));

    let version = emulator.resource_version();
    let refused = writer
        .preview(timeouts(Some("2s"), None))
        .await
        .unwrap_err();
    assert_eq!(
        refused,
        WriteError::Invalid {
            object: "VirtualService bookinfo/reviews".into(),
            causes: vec![Violation {
                path: "spec.http[0].timeout".into(),
                message: "Invalid value: \"string\": must be at most 1s".into(),
            }],
        }
    );
    assert!(
        emulator
            .writes()
            .iter()
            .any(|w| w.starts_with("PATCH ") && w.contains("dryRun=All")),
        "the server's dry run refused it: {:?}",
        emulator.writes()
    );
    assert_eq!(emulator.resource_version(), version);
}

#[tokio::test]
async fn without_rights_to_write_rules_the_access_check_and_the_writes_say_what_is_missing() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    emulator.forbid_writes("bookinfo");
    let mut writer = Writer::start(KubeWriter::new(emulator.client()));
    assert_eq!(
        writer.check_access("bookinfo").await,
        Err(WriteError::NotAllowed {
            verb: "create".into(),
            resource: "virtualservices.networking.istio.io".into(),
            namespace: "bookinfo".into(),
            reason: "no RBAC rule of yours allows it".into(),
        })
    );
    assert_eq!(writer.check_access("legacy").await, Ok(()));

    let refused = writer.preview(shift(&[("v1", 100)])).await.unwrap_err();
    assert_eq!(
        refused,
        WriteError::NotAllowed {
            verb: "patch".into(),
            resource: "virtualservices.networking.istio.io".into(),
            namespace: "bookinfo".into(),
            reason: "virtualservices.networking.istio.io \"reviews\" is forbidden: User \"system:serviceaccount:meshtui:meshtui\" cannot patch resource \"virtualservices\" in API group \"networking.istio.io\" in the namespace \"bookinfo\"".into(),
        }
    );
}

#[tokio::test]
async fn an_object_changed_between_preview_and_apply_is_not_overwritten() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let mut writer = Writer::start(KubeWriter::new(emulator.client()));
    let breaker = request(
        "reviews",
        &["v1", "v2", "v3"],
        RuleChange::Breaker(Breaker {
            max_connections: Some(100),
            ..Breaker::default()
        }),
    );
    let preview = writer.preview(breaker).await.unwrap();
    assert_eq!(
        preview.objects[0].after.as_ref().unwrap()["spec"]["trafficPolicy"],
        json!({"connectionPool": {"tcp": {"maxConnections": 100}}})
    );

    // Someone labels the DestinationRule meanwhile.
    let mut theirs = stored(&emulator, "DestinationRule", "reviews").unwrap();
    theirs["metadata"]["labels"] = json!({"team": "shop"});
    emulator.replace(theirs);
    let version = emulator.resource_version();

    assert_eq!(
        writer.apply(&preview, false).await,
        Err(WriteError::Changed {
            object: "DestinationRule bookinfo/reviews".into()
        })
    );
    assert_eq!(emulator.resource_version(), version, "nothing was written");
    let kept = stored(&emulator, "DestinationRule", "reviews").unwrap();
    assert_eq!(kept["metadata"]["labels"], json!({"team": "shop"}));
    assert_eq!(kept["spec"].get("trafficPolicy"), None);
}

#[tokio::test]
async fn read_only_refuses_every_command_and_sends_nothing() {
    let emulator = KubeEmulator::with_objects(bookinfo_objects()).await;
    let preview = Writer::start(KubeWriter::new(emulator.client()))
        .preview(shift(&[("v1", 100)]))
        .await
        .unwrap();
    let sent = emulator.requests().len();

    let mut writer = Writer::start(KubeWriter::read_only(emulator.client()));
    assert_eq!(
        writer.check_access("bookinfo").await,
        Err(WriteError::ReadOnly)
    );
    assert_eq!(
        writer.preview(shift(&[("v1", 100)])).await,
        Err(WriteError::ReadOnly)
    );
    assert_eq!(
        writer.apply(&preview, true).await,
        Err(WriteError::ReadOnly)
    );
    let applied = Applied {
        objects: preview.objects.clone(),
    };
    assert_eq!(writer.undo(&applied).await, Err(WriteError::ReadOnly));
    assert_eq!(emulator.requests().len(), sent, "nothing was sent");
    assert_eq!(stored(&emulator, "VirtualService", "reviews"), None);
}

#[tokio::test]
async fn before_istio_1_22_rules_are_written_at_v1beta1() {
    let objects = bookinfo_objects().into_iter().map(|mut object| {
        let api_version = object["apiVersion"].as_str().unwrap().to_owned();
        if let Some(group) = api_version
            .strip_suffix("/v1")
            .filter(|g| g.ends_with(".istio.io"))
        {
            object["apiVersion"] = json!(format!("{group}/v1beta1"));
        }
        object
    });
    let options = EmulatorOptions {
        istio: IstioApis::Before1_22,
        ..EmulatorOptions::default()
    };
    let emulator = KubeEmulator::with_options_and_objects(options, objects).await;
    let mut writer = Writer::start(KubeWriter::new(emulator.client()));
    let preview = writer
        .preview(shift(&[("v1", 90), ("v2", 10)]))
        .await
        .unwrap();
    let ObjectChange::Apply(configuration) = &preview.objects[0].change else {
        panic!("{preview:?}");
    };
    assert_eq!(configuration["apiVersion"], "networking.istio.io/v1beta1");
    writer.apply(&preview, false).await.unwrap();
    let created = emulator
        .object(
            "networking.istio.io/v1beta1",
            "VirtualService",
            "bookinfo",
            "reviews",
        )
        .unwrap();
    assert_eq!(
        created["spec"]["http"][0]["route"],
        route(&[("v1", 90), ("v2", 10)])
    );
    assert_eq!(
        created["metadata"]["managedFields"][0]["apiVersion"],
        "networking.istio.io/v1beta1"
    );
}
