//! Generated meshes of any size, for trying the UI (and benchmarking it) at scale.
//!
//! Services sit in layers; each calls one to four services in the next layers, mostly in
//! its own namespace. The ingress gateway calls the first layer; databases (TCP) end chains.

use fastrand::Rng;

use crate::mesh::Protocol;

use super::latency::LatencyProfile;
use super::model::{ErrorOutcome, MeshModel, RouteDraft, RouteLoad, ServiceKind, WorkloadSpec};
use super::topology::ingress_gateway;

const NAMESPACE_WORDS: [&str; 12] = [
    "payments", "search", "identity", "orders", "media", "billing", "catalog", "ledger", "alerts",
    "profile", "reports", "routing",
];
const SERVICE_WORDS: [&str; 16] = [
    "api", "auth", "cache", "feed", "index", "notify", "quota", "rank", "render", "score",
    "session", "store", "sync", "tax", "token", "upload",
];
const VERBS: [&str; 6] = ["Get", "List", "Create", "Update", "Delete", "Watch"];

struct PlannedService {
    index: usize,
    layer: usize,
    namespace: usize,
    protocol: Protocol,
    operations: Vec<String>,
    workloads: Vec<usize>,
}

/// A mesh of about `services` services spread over about `services / 10` namespaces.
pub fn synthetic_mesh(services: usize, seed: u64) -> MeshModel {
    let mut rng = Rng::with_seed(seed ^ 0x5eed_0f5e_71ce);
    let count = services.max(1);
    let namespaces: Vec<String> = (0..(count / 10).max(1))
        .map(|i| format!("{}-{i}", NAMESPACE_WORDS[i % NAMESPACE_WORDS.len()]))
        .collect();
    let mut model = MeshModel::default();
    let gateway = ingress_gateway(&mut model);
    for namespace in &namespaces {
        model.namespace(namespace, true);
    }

    let layers = layer_count(count);
    let front = (count / 100).clamp(1, 12).min(count);
    let mut planned: Vec<PlannedService> = Vec::with_capacity(count);
    for i in 0..count {
        let layer = if i < front {
            0
        } else {
            1 + (i - front) * (layers - 1) / (count - front).max(1)
        };
        let last_layer = layer + 1 >= layers;
        let protocol = match rng.u32(0..100) {
            // Databases end call chains, so only the last layer has them.
            0..=39 if last_layer && i >= front => Protocol::Tcp,
            0..=54 => Protocol::Http,
            _ => Protocol::Grpc,
        };
        let namespace = rng.usize(0..namespaces.len());
        let name = format!("{}-{i}", SERVICE_WORDS[i % SERVICE_WORDS.len()]);
        let ns_name = namespaces[namespace].as_str();
        let service = model.add_service(ns_name, &name, ServiceKind::Kubernetes);
        let versions = match rng.u32(0..100) {
            0..=54 => 1,
            55..=84 => 2,
            _ => 3,
        };
        let own_ms = if protocol == Protocol::Tcp {
            0.3 + rng.f64() * 2.5
        } else {
            0.5 + rng.f64() * rng.f64() * 15.0
        };
        let mut workloads = Vec::with_capacity(versions);
        for v in 1..=versions {
            let desired = rng.u32(1..=3);
            // About one workload in fifty is rolling out or crash-looping.
            let ready = if rng.u32(0..50) == 0 {
                desired - 1
            } else {
                desired
            };
            let workload = model.add_workload(WorkloadSpec {
                namespace: ns_name.to_string(),
                name: format!("{name}-v{v}"),
                app: Some(name.clone()),
                version: Some(format!("v{v}")),
                sidecar: true,
                gateway: None,
                pods_ready: ready,
                pods_desired: desired,
                listed: true,
                service_time: LatencyProfile::new(
                    own_ms * (1.0 + 0.2 * (v - 1) as f64),
                    0.4 + rng.f64() * 0.3,
                ),
            });
            model.serve(service, workload);
            workloads.push(workload);
        }
        let operations = operations_for(&mut rng, protocol, &name);
        planned.push(PlannedService {
            index: service,
            layer,
            namespace,
            protocol,
            operations,
            workloads,
        });
    }

    let calls = plan_calls(&mut rng, &planned, layers);
    for (caller, callee) in calls {
        let (Some(from), Some(to)) = (planned.get(caller), planned.get(callee)) else {
            continue;
        };
        let load = RouteLoad::PerInbound {
            calls_per_request: 0.2 + rng.f64() * 0.8,
        };
        add_route(&mut model, &mut rng, &from.workloads, to, load);
    }
    for service in planned.iter().filter(|s| s.layer == 0) {
        let load = RouteLoad::Fixed {
            value: 20.0 + rng.f64() * 60.0,
        };
        add_route(&mut model, &mut rng, &[gateway], service, load);
    }
    model.include_downstream_latency();
    model
}

fn layer_count(services: usize) -> usize {
    let log2 = (usize::BITS - services.leading_zeros()) as usize;
    (log2 * 2 / 3).clamp(2, 10).min(services.max(2))
}

fn operations_for(rng: &mut Rng, protocol: Protocol, name: &str) -> Vec<String> {
    let resource = name.split('-').next().unwrap_or(name);
    let count = rng.usize(1..=3);
    (0..count)
        .map(|i| {
            let verb = VERBS[(i + rng.usize(0..VERBS.len())) % VERBS.len()];
            match protocol {
                Protocol::Grpc => {
                    format!("{resource}.v1.{}Service/{verb}Item", capitalised(resource))
                }
                _ => format!(
                    "{} /{resource}/{{id}}/{}",
                    http_method(verb),
                    verb.to_lowercase()
                ),
            }
        })
        .collect()
}

fn http_method(verb: &str) -> &'static str {
    match verb {
        "Create" => "POST",
        "Update" => "PUT",
        "Delete" => "DELETE",
        _ => "GET",
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Caller and callee positions in `planned`, each pair once. Every service past the first
/// layer gets at least one caller, so the graph hangs together.
fn plan_calls(rng: &mut Rng, planned: &[PlannedService], layers: usize) -> Vec<(usize, usize)> {
    let mut layer_start = vec![planned.len(); layers + 1];
    for (position, service) in planned.iter().enumerate().rev() {
        layer_start[service.layer] = position;
    }
    for layer in (0..layers).rev() {
        layer_start[layer] = layer_start[layer].min(layer_start[layer + 1]);
    }
    let mut calls = Vec::new();
    let mut has_caller = vec![false; planned.len()];
    for (caller, service) in planned.iter().enumerate() {
        if service.protocol == Protocol::Tcp || service.layer + 1 >= layers {
            continue;
        }
        // Mostly the next layer, sometimes the one after.
        let lo = layer_start[service.layer + 1];
        let hi = layer_start[(service.layer + 3).min(layers)];
        if lo >= hi {
            continue;
        }
        // Mostly one or two callees: every extra one multiplies the series a snapshot holds.
        let fan_out = match rng.u32(0..100) {
            0..=49 => 1,
            50..=77 => 2,
            78..=92 => 3,
            _ => 4,
        };
        let mut targets: Vec<usize> = Vec::with_capacity(fan_out);
        for _ in 0..fan_out {
            let same_namespace = rng.u32(0..100) < 85;
            let mut pick = rng.usize(lo..hi);
            if same_namespace {
                for _ in 0..12 {
                    let candidate = rng.usize(lo..hi);
                    if planned[candidate].namespace == service.namespace {
                        pick = candidate;
                        break;
                    }
                }
            }
            if !targets.contains(&pick) {
                targets.push(pick);
            }
        }
        for target in targets {
            has_caller[target] = true;
            calls.push((caller, target));
        }
    }
    for (callee, service) in planned.iter().enumerate() {
        if service.layer == 0 || has_caller[callee] {
            continue;
        }
        let lo = layer_start[service.layer - 1];
        let hi = layer_start[service.layer];
        let callers: Vec<usize> = (lo..hi)
            .filter(|&c| planned[c].protocol != Protocol::Tcp)
            .collect();
        if callers.is_empty() {
            continue;
        }
        calls.push((callers[rng.usize(0..callers.len())], callee));
    }
    calls
}

fn add_route(
    model: &mut MeshModel,
    rng: &mut Rng,
    clients: &[usize],
    to: &PlannedService,
    load: RouteLoad,
) {
    let picked: Vec<(&str, u32)> = if to.protocol == Protocol::Tcp {
        Vec::new()
    } else {
        let take = if rng.u32(0..100) < 85 { 1 } else { 2 };
        let start = rng.usize(0..to.operations.len().max(1));
        (0..take.min(to.operations.len()))
            .filter_map(|k| to.operations.get((start + k) % to.operations.len()))
            .map(|op| (op.as_str(), 1 + rng.u32(0..5)))
            .collect()
    };
    let mut draft = RouteDraft::new(to.protocol, load, &picked);
    if to.protocol != Protocol::Tcp {
        let roll = rng.u32(0..100);
        let grpc = to.protocol == Protocol::Grpc;
        if roll < 6 {
            let (code, status) = if grpc { (200, Some(14)) } else { (503, None) };
            draft = draft.error(ErrorOutcome::server(code, status, 0.005 + rng.f64() * 0.07));
        } else if roll < 10 {
            let (code, status) = if grpc { (200, Some(5)) } else { (404, None) };
            draft = draft.error(ErrorOutcome::server(code, status, 0.05 + rng.f64() * 0.15));
        }
    }
    for &client in clients {
        model.route(client, to.index, draft.clone());
    }
}
