//! Rule writes to a cluster through `kube::Client`: RBAC checks, previews dry-run by the server, server-side applies under the field manager `meshtui` (never forced unless asked), undo; knows `mesh` and `source::write`, never `app` or `ui`.

mod access;
mod apply;
mod failure;
mod object;
mod preview;
mod rest;
mod schemas;
mod undo;

use tokio::sync::mpsc;

use crate::source::write::{RuleWriter, WriteCommand, WriteError, WriteEvent};
use crate::source::SourceTask;

use rest::Rest;

/// Writes routing rules to the cluster `client` talks to.
pub struct KubeWriter {
    rest: Rest,
    /// `--readonly`: every command is refused and nothing is sent.
    read_only: bool,
}

impl KubeWriter {
    pub fn new(client: kube::Client) -> Self {
        KubeWriter {
            rest: Rest::new(client),
            read_only: false,
        }
    }

    /// A writer that refuses every command and sends nothing.
    pub fn read_only(client: kube::Client) -> Self {
        KubeWriter {
            read_only: true,
            ..KubeWriter::new(client)
        }
    }

    /// Carries out one command.
    pub async fn handle(&self, command: WriteCommand) -> WriteEvent {
        match command {
            WriteCommand::CheckAccess { id, namespace } => WriteEvent::Access {
                id,
                result: if self.read_only {
                    Err(WriteError::ReadOnly)
                } else {
                    access::check(&self.rest, &namespace).await
                },
            },
            WriteCommand::Preview { id, request } => WriteEvent::Previewed {
                id,
                result: if self.read_only {
                    Err(WriteError::ReadOnly)
                } else {
                    preview::preview(&self.rest, request).await
                },
            },
            WriteCommand::Apply { id, preview, force } => WriteEvent::Applied {
                id,
                result: if self.read_only {
                    Err(WriteError::ReadOnly)
                } else {
                    apply::apply(&self.rest, &preview, force).await
                },
            },
            WriteCommand::Undo { id, applied } => WriteEvent::Undone {
                id,
                result: if self.read_only {
                    Err(WriteError::ReadOnly)
                } else {
                    undo::undo(&self.rest, &applied).await
                },
            },
        }
    }
}

impl RuleWriter for KubeWriter {
    /// Commands are carried out one at a time, in order: writes to the same objects must
    /// not overtake each other.
    fn run(
        self: Box<Self>,
        events: mpsc::Sender<WriteEvent>,
        mut commands: mpsc::Receiver<WriteCommand>,
    ) -> SourceTask {
        Box::pin(async move {
            while let Some(command) = commands.recv().await {
                let event = self.handle(command).await;
                if events.send(event).await.is_err() {
                    return;
                }
            }
        })
    }
}
