//! Terminal input: a reader thread, and key -> message translation through the keymap.

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::mpsc;

use crate::app::forms::TextKey;
use crate::app::{Action, FindKey, Msg, State};
use crate::config::{KeyPress, Keymap};
use crate::ui::key_context;

/// Reads terminal events on a thread of its own, since crossterm's `read` blocks.
pub fn spawn_reader() -> mpsc::UnboundedReceiver<std::io::Result<Event>> {
    let (tx, rx) = mpsc::unbounded_channel();
    std::thread::spawn(move || loop {
        let event = crossterm::event::read();
        let failed = event.is_err();
        if tx.send(event).is_err() || failed {
            break;
        }
    });
    rx
}

/// The message a key press means in the current state.
pub fn translate_key(state: &State, keymap: &Keymap, key: &KeyEvent) -> Option<Msg> {
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Msg::Action(Action::Quit));
    }
    // The interfaces' and the access log's filters are typed like a find.
    let filtering = state.interfaces.as_ref().is_some_and(|v| v.filtering)
        || state
            .logs
            .open
            .as_ref()
            .is_some_and(|log| log.editing_filter);
    if state.find.is_some() || filtering {
        return match key.code {
            KeyCode::Char(c) if !ctrl => Some(Msg::Find(FindKey::Char(c))),
            KeyCode::Backspace => Some(Msg::Find(FindKey::Backspace)),
            KeyCode::Enter => Some(Msg::Find(FindKey::Accept)),
            KeyCode::Esc => Some(Msg::Find(FindKey::Cancel)),
            KeyCode::Tab | KeyCode::Down => Some(Msg::Find(FindKey::NextMatch)),
            KeyCode::BackTab | KeyCode::Up => Some(Msg::Find(FindKey::PreviousMatch)),
            _ => None,
        };
    }
    if state.rules.command.is_some() {
        return match key.code {
            KeyCode::Char(c) if !ctrl => Some(Msg::Text(TextKey::Char(c))),
            KeyCode::Backspace => Some(Msg::Text(TextKey::Backspace)),
            KeyCode::Enter => Some(Msg::Text(TextKey::Enter)),
            KeyCode::Esc => Some(Msg::Text(TextKey::Esc)),
            _ => None,
        };
    }
    let plain = !ctrl && !key.modifiers.contains(KeyModifiers::ALT);
    if state.overlay.is_none() && plain {
        match key.code {
            // Characters type into a form's text field (digits into a weight).
            KeyCode::Char(c) if state.rules.types(c) => return Some(Msg::Text(TextKey::Char(c))),
            KeyCode::Backspace if state.rules.form.is_some() => {
                return Some(Msg::Text(TextKey::Backspace))
            }
            _ => {}
        }
    }
    let press = KeyPress::from_crossterm(key)?;
    keymap
        .action_for(key_context(state), &press)
        .map(Msg::Action)
}
