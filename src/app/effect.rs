//! What `update` asks the runtime to do; the runtime carries it out.

use crate::source::logs::PodRef;
use crate::source::operations::OperationsQuery;
use crate::source::write::WriteCommand;
use crate::source::SourceCommand;

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Quit,
    Source(SourceCommand),
    /// A rule write for the writer (preview, apply, undo, access check); boxed, since a
    /// preview carries whole objects.
    Write(Box<WriteCommand>),
    /// Read a workload's operations; the answer comes back as `Msg::Operations`. A newer
    /// query replaces one still under way.
    QueryOperations(OperationsQuery),
    /// Follow this container's log (stopping any other follow); its news comes back as
    /// `Msg::Log` with this id.
    FollowLog {
        id: u64,
        pod: PodRef,
    },
    /// Stop following the log.
    StopLog,
}
