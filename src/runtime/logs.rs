//! The access-log follower's slot in the event loop: one log followed at a time, started
//! by `Effect::FollowLog` and stopped by `Effect::StopLog` (or by following another); its
//! news is read back with the id of the follow it belongs to.

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::source::logs::{LogEvent, LogFollower, PodRef};

/// Events waiting for the event loop; a follower waits (and the stream with it) when full.
const QUEUE: usize = 64;

pub struct LogLink {
    follower: Option<Box<dyn LogFollower>>,
    current: Option<Following>,
}

struct Following {
    id: u64,
    events: mpsc::Receiver<LogEvent>,
    task: JoinHandle<()>,
}

impl Drop for Following {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl LogLink {
    pub fn new(follower: Option<Box<dyn LogFollower>>) -> Self {
        LogLink {
            follower,
            current: None,
        }
    }

    /// Follows `pod`'s log, stopping the log followed before. Without a follower, the
    /// answer to give at once.
    pub fn follow(&mut self, id: u64, pod: PodRef) -> Option<LogEvent> {
        self.stop();
        let Some(follower) = &self.follower else {
            return Some(LogEvent::Failed(
                "this source cannot read pod logs".to_owned(),
            ));
        };
        let (sender, events) = mpsc::channel(QUEUE);
        let task = tokio::spawn(follower.follow(pod, sender));
        self.current = Some(Following { id, events, task });
        None
    }

    pub fn stop(&mut self) {
        self.current = None;
    }

    pub fn is_following(&self) -> bool {
        self.current.is_some()
    }

    /// The followed log's next news, with whatever else is already queued behind it;
    /// never returns while nothing is followed. When the follower ends, the slot empties.
    pub async fn next(&mut self) -> Vec<(u64, LogEvent)> {
        let Some(current) = self.current.as_mut() else {
            return std::future::pending().await;
        };
        let id = current.id;
        match current.events.recv().await {
            Some(first) => {
                let mut news = vec![(id, first)];
                while let Ok(more) = current.events.try_recv() {
                    news.push((id, more));
                }
                news
            }
            None => {
                self.current = None;
                Vec::new()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mesh::access_log::LogLine;
    use crate::source::SourceTask;

    /// Sends one line naming the pod, then waits to be stopped.
    struct EchoFollower;

    impl LogFollower for EchoFollower {
        fn follow(&self, pod: PodRef, events: mpsc::Sender<LogEvent>) -> SourceTask {
            Box::pin(async move {
                let line = LogLine::Raw(pod.pod.clone());
                let _ = events.send(LogEvent::Lines(vec![line])).await;
                events.closed().await;
            })
        }
    }

    #[tokio::test]
    async fn news_carries_the_id_of_its_follow_and_following_again_replaces_it() {
        let mut link = LogLink::new(Some(Box::new(EchoFollower)));
        assert!(!link.is_following());
        assert_eq!(link.follow(1, PodRef::proxy("c", "ns", "a")), None);
        assert_eq!(
            link.next().await,
            vec![(1, LogEvent::Lines(vec![LogLine::Raw("a".into())]))]
        );
        link.follow(2, PodRef::proxy("c", "ns", "b"));
        assert_eq!(
            link.next().await,
            vec![(2, LogEvent::Lines(vec![LogLine::Raw("b".into())]))]
        );
        link.stop();
        assert!(!link.is_following());
    }

    #[tokio::test]
    async fn without_a_follower_following_fails_at_once() {
        let mut link = LogLink::new(None);
        assert!(matches!(
            link.follow(1, PodRef::proxy("c", "ns", "a")),
            Some(LogEvent::Failed(_))
        ));
        assert!(!link.is_following());
    }
}
