//! What `update` asks the runtime to do; the runtime carries it out.

use crate::source::SourceCommand;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Quit,
    Source(SourceCommand),
}
