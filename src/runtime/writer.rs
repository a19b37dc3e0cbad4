//! The rule writer's slot in the event loop: started when the session has one, commands
//! handed to it, its answers read back. A command it cannot take is answered here, as a
//! refusal, so a form never waits for an answer that will not come.

use tokio::sync::mpsc;
use tokio::task::{JoinError, JoinHandle};

use crate::app::forms::{WriteAccess, NO_WRITER};
use crate::source::write::{RuleWriter, WriteCommand, WriteError, WriteEvent};

/// Commands waiting for the writer; more than a user can ask for between two answers.
const QUEUE: usize = 16;

pub struct WriterLink {
    commands: Option<mpsc::Sender<WriteCommand>>,
    events: mpsc::Receiver<WriteEvent>,
    task: Option<JoinHandle<()>>,
}

/// What the writer had to say.
#[derive(Debug)]
pub enum WriterNews {
    Event(WriteEvent),
    /// The writer's task ended (an error when it panicked).
    Stopped(Result<(), JoinError>),
}

impl WriterLink {
    /// Starts the writer on the runtime; with none, every command is refused.
    pub fn start(writer: Option<Box<dyn RuleWriter>>) -> Self {
        let (events_in, events) = mpsc::channel(QUEUE);
        let Some(writer) = writer else {
            return WriterLink {
                commands: None,
                events,
                task: None,
            };
        };
        let (commands, commands_out) = mpsc::channel(QUEUE);
        let task = tokio::spawn(writer.run(events_in, commands_out));
        WriterLink {
            commands: Some(commands),
            events,
            task: Some(task),
        }
    }

    pub fn is_running(&self) -> bool {
        self.task.is_some()
    }

    /// Hands a command to the writer; when it cannot take it, the refusal to report.
    pub fn send(&self, command: WriteCommand) -> Option<WriteEvent> {
        match &self.commands {
            Some(commands) => commands
                .try_send(command)
                .err()
                .map(|refused| not_sent(refused.into_inner())),
            None => Some(not_sent(command)),
        }
    }

    /// The writer's next answer, or its end; never returns without a writer.
    pub async fn next(&mut self) -> WriterNews {
        let Some(task) = self.task.as_mut() else {
            return std::future::pending().await;
        };
        let news = tokio::select! {
            // Answers already sent come before the news of the writer's end.
            biased;
            Some(event) = self.events.recv() => WriterNews::Event(event),
            ended = task => WriterNews::Stopped(ended),
        };
        if let WriterNews::Stopped(_) = news {
            self.task = None;
            self.commands = None;
        }
        news
    }

    pub fn stop(self) {
        if let Some(task) = self.task {
            task.abort();
        }
    }
}

/// Whether the forms may write, and if not why: the reason is shown on every form.
pub fn write_access(readonly: bool, has_writer: bool) -> WriteAccess {
    match (readonly, has_writer) {
        (true, _) => WriteAccess::Disabled(WriteError::ReadOnly.to_string()),
        (false, false) => WriteAccess::Disabled(NO_WRITER.into()),
        (false, true) => WriteAccess::Enabled,
    }
}

/// The answer to a command the writer never got (its queue full, or it stopped).
fn not_sent(command: WriteCommand) -> WriteEvent {
    let error = || WriteError::Failed("the rule writer is busy or stopped; try again".into());
    match command {
        WriteCommand::CheckAccess { id, .. } => WriteEvent::Access {
            id,
            result: Err(error()),
        },
        WriteCommand::Preview { id, .. } => WriteEvent::Previewed {
            id,
            result: Err(error()),
        },
        WriteCommand::Apply { id, .. } => WriteEvent::Applied {
            id,
            result: Err(error()),
        },
        WriteCommand::Undo { id, .. } => WriteEvent::Undone {
            id,
            result: Err(error()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::SourceTask;

    /// Allows every namespace, then stops after `answers` commands.
    struct CountingWriter {
        answers: usize,
    }

    impl RuleWriter for CountingWriter {
        fn run(
            self: Box<Self>,
            events: mpsc::Sender<WriteEvent>,
            mut commands: mpsc::Receiver<WriteCommand>,
        ) -> SourceTask {
            Box::pin(async move {
                for _ in 0..self.answers {
                    let Some(WriteCommand::CheckAccess { id, .. }) = commands.recv().await else {
                        return;
                    };
                    let _ = events.send(WriteEvent::Access { id, result: Ok(()) }).await;
                }
            })
        }
    }

    /// Never reads a command.
    struct DeafWriter;

    impl RuleWriter for DeafWriter {
        fn run(
            self: Box<Self>,
            _events: mpsc::Sender<WriteEvent>,
            commands: mpsc::Receiver<WriteCommand>,
        ) -> SourceTask {
            Box::pin(async move {
                let _commands = commands;
                std::future::pending::<()>().await;
            })
        }
    }

    fn check(id: u64) -> WriteCommand {
        WriteCommand::CheckAccess {
            id,
            namespace: "bookinfo".into(),
        }
    }

    #[tokio::test]
    async fn commands_reach_the_writer_and_its_answers_and_end_come_back() {
        let mut link = WriterLink::start(Some(Box::new(CountingWriter { answers: 1 })));
        assert!(link.is_running());
        assert_eq!(link.send(check(7)), None);
        match link.next().await {
            WriterNews::Event(event) => {
                assert_eq!(
                    event,
                    WriteEvent::Access {
                        id: 7,
                        result: Ok(())
                    }
                )
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(link.next().await, WriterNews::Stopped(Ok(()))));
        assert!(!link.is_running());
        assert!(
            matches!(
                link.send(check(8)),
                Some(WriteEvent::Access {
                    id: 8,
                    result: Err(_)
                })
            ),
            "a stopped writer's commands are refused"
        );
    }

    #[tokio::test]
    async fn without_a_writer_or_with_a_full_queue_a_command_is_refused_at_once() {
        let link = WriterLink::start(None);
        assert!(!link.is_running());
        assert!(matches!(
            link.send(check(1)),
            Some(WriteEvent::Access {
                id: 1,
                result: Err(WriteError::Failed(_))
            })
        ));

        let link = WriterLink::start(Some(Box::new(DeafWriter)));
        for id in 0..QUEUE as u64 {
            assert_eq!(link.send(check(id)), None, "command {id} is queued");
        }
        assert!(link.send(check(99)).is_some(), "the 17th is refused");
        link.stop();
    }

    #[test]
    fn read_only_wins_over_a_writer_and_no_writer_says_so() {
        assert_eq!(
            write_access(true, true),
            WriteAccess::Disabled("meshtui runs read-only (--readonly): nothing is written".into())
        );
        assert_eq!(
            write_access(false, false),
            WriteAccess::Disabled("this source cannot write rules".into())
        );
        assert_eq!(write_access(false, true), WriteAccess::Enabled);
    }
}
