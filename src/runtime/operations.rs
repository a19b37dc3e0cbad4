//! The operations reader's slot in the event loop: one query at a time, a newer one
//! replacing the one under way (latest wins: a slow answer for an old refresh must not
//! land after a newer one), answers read back as messages.

use std::sync::Arc;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::source::operations::{
    OperationsError, OperationsQuery, OperationsReader, OperationsReport,
};

/// An answer with the query it answers.
type Answer = (OperationsQuery, Result<OperationsReport, OperationsError>);

pub struct OperationsLink {
    reader: Option<Arc<dyn OperationsReader>>,
    under_way: Option<JoinHandle<()>>,
    answers_in: mpsc::Sender<Answer>,
    answers: mpsc::Receiver<Answer>,
}

impl OperationsLink {
    /// With no reader, every query is answered at once with [`OperationsError::Unavailable`].
    pub fn start(reader: Option<Box<dyn OperationsReader>>) -> Self {
        let (answers_in, answers) = mpsc::channel(4);
        OperationsLink {
            reader: reader.map(Arc::from),
            under_way: None,
            answers_in,
            answers,
        }
    }

    /// Sends `query`, dropping the one under way.
    pub fn ask(&mut self, query: OperationsQuery) {
        if let Some(task) = self.under_way.take() {
            task.abort();
        }
        let answers = self.answers_in.clone();
        let reader = self.reader.clone();
        self.under_way = Some(tokio::spawn(async move {
            let asked = query.clone();
            let answer = match reader {
                Some(reader) => reader.read(query).await,
                None => Err(OperationsError::Unavailable),
            };
            let _ = answers.send((asked, answer)).await;
        }));
    }

    /// The next answer; never returns while none is coming.
    pub async fn next(&mut self) -> Answer {
        match self.answers.recv().await {
            Some(answer) => answer,
            // The link holds a sender itself, so the channel never closes.
            None => std::future::pending().await,
        }
    }

    pub fn stop(self) {
        if let Some(task) = self.under_way {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::operations::{OperationsOutcome, WorkloadRef};
    use crate::source::operations::OperationsFuture;
    use std::time::Duration;

    /// Answers after a delay that depends on the workload's name.
    struct SlowFirst;

    impl OperationsReader for SlowFirst {
        fn read(&self, query: OperationsQuery) -> OperationsFuture {
            Box::pin(async move {
                let delay = if query.workload.name == "slow" {
                    200
                } else {
                    1
                };
                tokio::time::sleep(Duration::from_millis(delay)).await;
                Ok(OperationsReport {
                    query,
                    taken_at_unix_s: 0.0,
                    outcome: OperationsOutcome::NoTraffic,
                })
            })
        }
    }

    fn query(name: &str) -> OperationsQuery {
        OperationsQuery {
            workload: WorkloadRef {
                cluster: String::new(),
                namespace: "ns".into(),
                name: name.into(),
            },
            label: "request_operation".into(),
            window: Duration::from_secs(60),
            at_unix_s: None,
        }
    }

    #[tokio::test]
    async fn a_newer_query_replaces_the_one_under_way() {
        let mut link = OperationsLink::start(Some(Box::new(SlowFirst)));
        link.ask(query("slow"));
        link.ask(query("fast"));
        let (asked, answer) = link.next().await;
        assert_eq!(asked.workload.name, "fast");
        assert_eq!(answer.unwrap().query.workload.name, "fast");
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(
            link.answers.try_recv().is_err(),
            "the slow answer never comes"
        );
    }

    #[tokio::test]
    async fn without_a_reader_a_query_is_answered_as_unavailable() {
        let mut link = OperationsLink::start(None);
        link.ask(query("any"));
        let (asked, answer) = link.next().await;
        assert_eq!(asked.workload.name, "any");
        assert_eq!(answer, Err(OperationsError::Unavailable));
    }
}
