//! One table per analyzer: YAML in, the lines istioctl would print out.

use super::*;
use crate::mesh::rules::yaml::parse_objects;

/// The rendered messages of `analyzer` over `yaml` (plus Istio's built-in ingress
/// gateway, as in istioctl's file analysis), without file references.
fn run(analyzer: Analyzer, yaml: &str) -> Vec<String> {
    let objects = parse_objects("in.yaml", yaml).expect("test input parses");
    let options = AnalyzeOptions {
        analyzers: vec![analyzer],
        ..AnalyzeOptions::default()
    };
    analyze(objects, &options)
        .into_iter()
        .map(|mut m| {
            m.resource.reference = None;
            m.render()
        })
        .collect()
}

fn check(analyzer: Analyzer, cases: &[(&str, &str, &[&str])]) {
    for (name, yaml, want) in cases {
        assert_eq!(run(analyzer, yaml), *want, "{}: {name}", analyzer.name());
    }
}

const REVIEWS_SERVICE: &str = "
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: default}
spec:
  ports: [{port: 9080, name: http}]
  selector: {app: reviews}
";

#[test]
fn conflicting_mesh_gateway_hosts() {
    let two_in_one_namespace = "
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: foo}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: foo}
spec: {hosts: [reviews.foo.svc.cluster.local], gateways: [mesh, gw], http: [{route: [{destination: {host: reviews}}]}]}
";
    let gateway_only = "
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: foo}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: foo}
spec: {hosts: [reviews], gateways: [gw], http: [{route: [{destination: {host: reviews}}]}]}
";
    let exported_apart = "
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: foo}
spec: {hosts: [web.example.com], exportTo: [.], http: [{route: [{destination: {host: web}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: bar}
spec: {hosts: [web.example.com], exportTo: [.], http: [{route: [{destination: {host: web}}]}]}
";
    let exported_everywhere_meets_a_namespace = "
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: foo}
spec: {hosts: [web.example.com], exportTo: [.], http: [{route: [{destination: {host: web}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: bar}
spec: {hosts: ['*.example.com'], http: [{route: [{destination: {host: web}}]}]}
";
    let host = "host */reviews.foo.svc.cluster.local which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.";
    check(
        Analyzer::ConflictingMeshGatewayHosts,
        &[
            (
                "two mesh-bound services claim one host, short and long",
                two_in_one_namespace,
                &[
                    &format!("Error [IST0109] (VirtualService foo/a) The VirtualServices foo/a,foo/b associated with mesh gateway define the same {host}"),
                    &format!("Error [IST0109] (VirtualService foo/b) The VirtualServices foo/a,foo/b associated with mesh gateway define the same {host}"),
                ],
            ),
            ("one of them only binds a gateway", gateway_only, &[]),
            ("each exported to its own namespace", exported_apart, &[]),
            (
                "a wildcard exported everywhere meets a namespace's host",
                exported_everywhere_meets_a_namespace,
                &[
                    "Error [IST0109] (VirtualService bar/b) The VirtualServices foo/a,bar/b associated with mesh gateway define the same host foo/web.example.com which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.",
                    "Error [IST0109] (VirtualService foo/a) The VirtualServices foo/a,bar/b associated with mesh gateway define the same host foo/web.example.com which can lead to undefined behavior. This can be fixed by merging the conflicting VirtualServices into a single resource.",
                ],
            ),
        ],
    );
}

#[test]
fn destination_hosts() {
    let vs = |name: &str, destination: &str| {
        format!(
            "{REVIEWS_SERVICE}---
apiVersion: v1
kind: Service
metadata: {{name: two-ports, namespace: default}}
spec: {{ports: [{{port: 80}}, {{port: 443}}]}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: eu, namespace: default}}
spec: {{hosts: ['*.eu.example.com']}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: {name}, namespace: default}}
spec: {{http: [{{route: [{{destination: {destination}}}]}}]}}
"
        )
    };
    check(
        Analyzer::DestinationHost,
        &[
            ("a known short host", &vs("ok", "{host: reviews}"), &[]),
            ("a known FQDN", &vs("ok", "{host: reviews.default.svc.cluster.local}"), &[]),
            ("a wildcard ServiceEntry host", &vs("ok", "{host: a.eu.example.com}"), &[]),
            (
                "an unknown host",
                &vs("bogus", "{host: reviews-bogus}"),
                &["Error [IST0101] (VirtualService default/bogus) Referenced host not found: \"reviews-bogus\""],
            ),
            (
                "a port the service lacks",
                &vs("port", "{host: reviews, port: {number: 999}}"),
                &["Error [IST0101] (VirtualService default/port) Referenced host:port not found: \"reviews:999\""],
            ),
            (
                "no port for a service with two",
                &vs("twoports", "{host: two-ports}"),
                &["Error [IST0112] (VirtualService default/twoports) This VirtualService routes to a service \"two-ports\" that exposes multiple ports [80 443]. Specifying a port in the destination is required to disambiguate."],
            ),
        ],
    );
    let exported = "
apiVersion: v1
kind: Service
metadata: {name: hello, namespace: hello, annotations: {networking.istio.io/exportTo: 'hello1,.'}}
spec: {ports: [{port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: seen, namespace: hello1}
spec: {hosts: [hello], http: [{route: [{destination: {host: hello.hello.svc.cluster.local}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: unseen, namespace: other}
spec: {hosts: [hello], http: [{route: [{destination: {host: hello.hello.svc.cluster.local}}], mirror: {host: nowhere}}]}
";
    check(
        Analyzer::DestinationHost,
        &[(
            "services exported to some namespaces only",
            exported,
            &[
                "Error [IST0101] (VirtualService other/unseen) Referenced host not found: \"hello.hello.svc.cluster.local\"",
                "Error [IST0101] (VirtualService other/unseen) Referenced mirror host not found: \"nowhere\"",
            ],
        )],
    );
    let ingress = "
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ingress, namespace: default}
spec: {hosts: [r.example.com], gateways: [gw], http: [{route: [{destination: {host: reviews}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: default}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}}]}]}
";
    check(
        Analyzer::DestinationHost,
        &[(
            "a gateway route ignores another service's subsets",
            &format!("{REVIEWS_SERVICE}---{ingress}"),
            &["Warning [IST0140] (VirtualService default/ingress) Subset in virtual service default/reviews has no effect on ingress gateway default/ingress requests"],
        )],
    );
}

#[test]
fn destination_rules() {
    let yaml = "
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: default}
spec: {host: reviews, subsets: [{name: v1, labels: {version: v1}}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: fqdn, namespace: other}
spec: {http: [{route: [{destination: {host: reviews.default.svc.cluster.local, subset: v1}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: short-elsewhere, namespace: other}
spec: {http: [{route: [{destination: {host: reviews, subset: v1}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: mirror, namespace: default}
spec: {http: [{route: [{destination: {host: reviews}}], mirror: {host: reviews, subset: v9}}]}
";
    check(
        Analyzer::DestinationRule,
        &[(
            "subsets are looked up by host and namespace",
            yaml,
            &[
                "Error [IST0101] (VirtualService default/mirror) Referenced mirror+subset in destinationrule not found: \"reviews+v9\"",
                "Error [IST0101] (VirtualService other/short-elsewhere) Referenced host+subset in destinationrule not found: \"reviews+v1\"",
            ],
        )],
    );
}

#[test]
fn gateways() {
    let gateway = "
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['./a.example.com', 'team/b.example.com']}]
";
    let vs = |ns: &str, host: &str, bound: &str| {
        format!(
            "{gateway}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: vs, namespace: {ns}}}
spec: {{hosts: [{host}], gateways: [{bound}], http: [{{route: [{{destination: {{host: a}}}}]}}]}}
"
        )
    };
    check(
        Analyzer::Gateway,
        &[
            ("a host the gateway serves to the gateway's namespace", &vs("istio-system", "a.example.com", "gw"), &[]),
            (
                "a ./ host is not served to other namespaces",
                &vs("team", "a.example.com", "istio-system/gw"),
                &["Warning [IST0132] (VirtualService team/vs) one or more host [a.example.com] defined in VirtualService team/vs not found in Gateway istio-system/gw."],
            ),
            ("a host served to the VirtualService's namespace", &vs("team", "b.example.com", "istio-system/gw"), &[]),
            (
                "a missing gateway",
                &vs("team", "b.example.com", "nope"),
                &[
                    "Error [IST0101] (VirtualService team/vs) Referenced gateway not found: \"nope\"",
                    "Warning [IST0132] (VirtualService team/vs) one or more host [b.example.com] defined in VirtualService team/vs not found in Gateway team/nope.",
                ],
            ),
            (
                "a gateway Istio generated",
                &vs("team", "b.example.com", "istio-ingress/gw-istio-autogenerated-k8s-gateway-http"),
                &["Warning [IST0165] (VirtualService team/vs) Gateway reference in VirtualService team/vs is to an implementation-generated internal Gateway: istio-ingress/gw-istio-autogenerated-k8s-gateway-http."],
            ),
        ],
    );
    let kube_gateway = "
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: team}
spec: {gatewayClassName: istio, listeners: [{name: http, port: 80, protocol: HTTP, hostname: '*.example.com'}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs, namespace: team}
spec: {hosts: [b.example.com, c.other.com], gateways: [web], http: [{route: [{destination: {host: a}}]}]}
";
    check(
        Analyzer::Gateway,
        &[("a Gateway API gateway serving the host", kube_gateway, &[])],
    );
}

#[test]
fn jwt_claim_route() {
    let base = "
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: gw, namespace: istio-system}
spec: {selector: {istio: ingressgateway}, servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: claims, namespace: default}
spec:
  hosts: [foo.com]
  gateways: [istio-system/gw]
  http:
  - match: [{headers: {'@request.auth.claims.group': {exact: admin}}}]
    route: [{destination: {host: foo}}]
";
    let authn = |selector: &str| {
        format!(
            "{base}---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {{name: jwt, namespace: istio-system}}
spec: {{selector: {{matchLabels: {selector}}}}}
"
        )
    };
    check(
        Analyzer::JwtClaimRoute,
        &[
            (
                "no RequestAuthentication",
                base,
                &["Error [IST0149] (VirtualService default/claims) The virtual service uses the JWT claim based routing (key: @request.auth.claims.group) but found no request authentication for the gateway (istio-system/gw) pod (istio-ingressgateway-dummypod). The request authentication must first be applied for the gateway pods to validate the JWT token and make the claims available for routing."],
            ),
            ("one selecting the gateway pod", &authn("{istio: ingressgateway}"), &[]),
            (
                "one selecting other pods",
                &authn("{app: other}"),
                &["Error [IST0149] (VirtualService default/claims) The virtual service uses the JWT claim based routing (key: @request.auth.claims.group) but found no request authentication for the gateway (istio-system/gw) pod (istio-ingressgateway-dummypod). The request authentication must first be applied for the gateway pods to validate the JWT token and make the claims available for routing."],
            ),
        ],
    );
}

#[test]
fn ca_certificates() {
    let rule = |tls: &str, selector: &str| {
        format!(
            "
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: db, namespace: prod}}
spec:
  host: db.prod.svc.cluster.local
  {selector}
  trafficPolicy:
    tls: {tls}
    portLevelSettings: [{{port: {{number: 443}}, tls: {tls}}}]
"
        )
    };
    let both = |mode: &str| {
        [
            format!("Warning [IST0128] (DestinationRule prod/db) DestinationRule prod/db in namespace prod has TLS mode set to {mode} but no caCertificates are set to validate server identity for host: db.prod.svc.cluster.local"),
            format!("Warning [IST0129] (DestinationRule prod/db) DestinationRule prod/db in namespace prod has TLS mode set to {mode} but no caCertificates are set to validate server identity for host: db.prod.svc.cluster.local at port number:443"),
        ]
    };
    let simple = both("SIMPLE");
    let mutual = both("MUTUAL");
    check(
        Analyzer::CaCertificate,
        &[
            (
                "SIMPLE without a CA",
                &rule("{mode: SIMPLE}", ""),
                &[&simple[0], &simple[1]],
            ),
            (
                "MUTUAL without a CA",
                &rule("{mode: MUTUAL, privateKey: k}", ""),
                &[&mutual[0], &mutual[1]],
            ),
            (
                "with a CA",
                &rule("{mode: SIMPLE, caCertificates: /ca.pem}", ""),
                &[],
            ),
            (
                "ISTIO_MUTUAL needs none",
                &rule("{mode: ISTIO_MUTUAL}", ""),
                &[],
            ),
            (
                "a credential without a workload selector",
                &rule("{mode: SIMPLE, credentialName: db}", ""),
                &[&simple[0], &simple[1]],
            ),
            (
                "a credential for selected workloads",
                &rule(
                    "{mode: SIMPLE, credentialName: db}",
                    "workloadSelector: {matchLabels: {app: db}}",
                ),
                &[],
            ),
        ],
    );
}

#[test]
fn subsets_select_pods() {
    let objects = |subset_labels: &str, node_labels: &str| {
        format!(
            "
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {{name: r, namespace: default}}
spec: {{host: reviews, subsets: [{{name: s, labels: {subset_labels}}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: reviews, namespace: default}}
spec: {{ports: [{{port: 80}}], selector: {{app: reviews}}}}
---
apiVersion: v1
kind: Pod
metadata: {{name: reviews-v1, namespace: default, labels: {{app: reviews, version: v1}}}}
spec: {{nodeName: node-a, containers: [{{name: c}}]}}
---
apiVersion: v1
kind: Node
metadata: {{name: node-a, labels: {node_labels}}}
"
        )
    };
    let none = ["Error [IST0173] (DestinationRule default/r) The Subset s defined in the DestinationRule does not select any pods. Which may lead to 503 UH (NoHealthyUpstream)."];
    let zone = "{topology.kubernetes.io/region: us, topology.kubernetes.io/zone: us-1}";
    check(
        Analyzer::SubsetSelectPod,
        &[
            (
                "a subset selecting a pod",
                &objects("{version: v1}", "{}"),
                &[],
            ),
            (
                "a subset selecting none",
                &objects("{version: v3}", "{}"),
                &none,
            ),
            (
                "the node's zone",
                &objects("{topology.kubernetes.io/zone: us-1}", zone),
                &[],
            ),
            (
                "the node's name",
                &objects("{kubernetes.io/hostname: node-a}", "{}"),
                &[],
            ),
            (
                "an empty node label is not set",
                &objects(
                    "{topology.kubernetes.io/region: ''}",
                    "{topology.kubernetes.io/region: ''}",
                ),
                &none,
            ),
        ],
    );
    check(
        Analyzer::SubsetSelectPod,
        &[(
            "a host no service has",
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: f, namespace: default}\nspec: {host: fake}\n",
            &["Warning [IST0174] (DestinationRule default/f) The host fake defined in the DestinationRule does not match any services in the mesh."],
        )],
    );
}

#[test]
fn suppression_annotations_and_namespace_scope_hide_messages() {
    let yaml = "
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: quiet, namespace: a, annotations: {galley.istio.io/analyze-suppress: 'IST0130,IST0131'}}
spec: {http: [{route: []}, {route: []}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: loud, namespace: b}
spec: {http: [{route: []}, {route: []}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: elsewhere, namespace: c}
spec: {http: [{route: []}, {route: []}]}
";
    let options = AnalyzeOptions {
        analyzers: vec![Analyzer::VirtualServiceValidation],
        namespaces: vec!["a".into(), "b".into()],
        ..AnalyzeOptions::default()
    };
    let objects = parse_objects("s.yaml", yaml).unwrap();
    let names: Vec<String> = analyze(objects, &options)
        .into_iter()
        .map(|m| m.resource.friendly_name())
        .collect();
    assert_eq!(names, ["VirtualService b/loud"]);
}

#[test]
fn a_message_points_at_the_offending_fields_line() {
    let yaml = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v, namespace: d}\nspec:\n  http:\n  - route:\n    - destination:\n        host: nowhere\n";
    let options = AnalyzeOptions {
        analyzers: vec![Analyzer::DestinationHost],
        ..AnalyzeOptions::default()
    };
    let messages = analyze(parse_objects("vs.yaml", yaml).unwrap(), &options);
    assert_eq!(
        messages[0].render(),
        "Error [IST0101] (VirtualService d/v vs.yaml:8) Referenced host not found: \"nowhere\""
    );
}

#[test]
fn analyzers_are_found_by_istioctls_names() {
    for analyzer in Analyzer::ALL {
        assert_eq!(Analyzer::from_name(analyzer.name()), Some(analyzer));
    }
    assert_eq!(
        Analyzer::from_name("schema.ValidationAnalyzer (VirtualService)"),
        Some(Analyzer::VirtualServiceValidation)
    );
    assert_eq!(
        Analyzer::from_name("gateway.ConflictingGatewayAnalyzer"),
        None
    );
}
