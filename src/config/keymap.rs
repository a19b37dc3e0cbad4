//! Keymaps: which key does which action in which context, layered from built-in and user files.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use toml::Spanned;

use super::keys::KeyPress;
use super::{ConfigError, ConfigText, Location};
use crate::app::action::Action;

/// The built-in keymaps a user can choose by name; every one is layered over `default`.
pub const BUILTIN_KEYMAPS: &[&str] = &["default", "vim"];

const DEFAULT_FILE: &str = "keymaps/default.toml";
const DEFAULT_TEXT: &str = include_str!("../../keymaps/default.toml");
const VIM_FILE: &str = "keymaps/vim.toml";
const VIM_TEXT: &str = include_str!("../../keymaps/vim.toml");

/// The built-in keymap file of that name, as a layer.
pub(super) fn builtin_layer(name: &str) -> Option<ConfigText> {
    match name {
        "default" => Some(ConfigText::builtin(DEFAULT_FILE, DEFAULT_TEXT)),
        "vim" => Some(ConfigText::builtin(VIM_FILE, VIM_TEXT)),
        _ => None,
    }
}

/// Where a key is pressed; each is a section of a keymap file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyContext {
    /// Keys that work everywhere unless the current context binds them itself.
    Global,
    Topology,
    EdgeTable,
    /// The workload, service and app views.
    Detail,
    /// The tree navigator.
    Tree,
    Help,
    /// A rule form, its menu, diff and conflict dialogs.
    Form,
    /// A workload's operations (the interfaces view).
    Interfaces,
    /// A pod's access log.
    AccessLog,
}

impl KeyContext {
    pub const ALL: [KeyContext; 9] = [
        KeyContext::Global,
        KeyContext::Topology,
        KeyContext::EdgeTable,
        KeyContext::Detail,
        KeyContext::Tree,
        KeyContext::Help,
        KeyContext::Form,
        KeyContext::Interfaces,
        KeyContext::AccessLog,
    ];

    /// The section name in keymap files.
    pub fn name(self) -> &'static str {
        match self {
            KeyContext::Global => "global",
            KeyContext::Topology => "topology",
            KeyContext::EdgeTable => "edge_table",
            KeyContext::Detail => "detail",
            KeyContext::Tree => "tree",
            KeyContext::Help => "help",
            KeyContext::Form => "form",
            KeyContext::Interfaces => "interfaces",
            KeyContext::AccessLog => "access_log",
        }
    }

    pub fn from_name(name: &str) -> Option<KeyContext> {
        KeyContext::ALL
            .into_iter()
            .find(|context| context.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One action's keys in one context, as the help overlay lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Binding {
    pub action: Action,
    pub keys: Vec<KeyPress>,
    pub description: String,
}

/// The merged keymap. Built only through [`Keymap::builtin`] or `config::load`, so every
/// instance has passed the duplicate-key check.
#[derive(Debug, Clone)]
pub struct Keymap {
    contexts: [Vec<Binding>; KeyContext::ALL.len()],
    lookup: HashMap<(KeyContext, KeyPress), Action>,
}

impl Keymap {
    /// A built-in keymap (`default` or `vim`) without user files.
    pub fn builtin(name: &str) -> Result<Keymap, ConfigError> {
        let Some(chosen) = builtin_layer(name) else {
            return Err(ConfigError::UnknownKeymap {
                at: Location::option("keymap"),
                name: name.to_string(),
            });
        };
        let mut layers = Vec::from_iter(builtin_layer("default"));
        if name != "default" {
            layers.push(chosen);
        }
        Keymap::from_layers(&layers)
    }

    /// Merges keymap files, lowest first: a later file's entry replaces that action's keys in
    /// that context.
    pub(super) fn from_layers(layers: &[ConfigText]) -> Result<Keymap, ConfigError> {
        let mut drafts: [Vec<Draft>; KeyContext::ALL.len()] = Default::default();
        for (layer_index, layer) in layers.iter().enumerate() {
            for entry in parse_layer(layer, layer_index)? {
                let section = &mut drafts[entry.context.index()];
                let previous = section
                    .iter()
                    .position(|draft| draft.action == entry.action);
                let inherited = previous.and_then(|index| section[index].description.clone());
                let description = match (entry.description, inherited) {
                    (Some(own), _) => own,
                    (None, Some(inherited)) => inherited,
                    // Built-in files document every binding so help text is written by people
                    // who know the context; a user's file may rely on the action's own line.
                    (None, None) if layer.builtin => {
                        return Err(ConfigError::MissingDescription {
                            at: entry.at,
                            action: entry.action,
                            context: entry.context.name(),
                        });
                    }
                    (None, None) => entry.action.description().to_string(),
                };
                let draft = Draft {
                    action: entry.action,
                    keys: entry.keys,
                    description: Some(description),
                };
                match previous {
                    Some(index) => section[index] = draft,
                    None => section.push(draft),
                }
            }
        }
        let mut lookup = HashMap::new();
        for context in KeyContext::ALL {
            check_duplicates(context, &drafts[context.index()])?;
            for draft in &drafts[context.index()] {
                for (key, _) in &draft.keys {
                    lookup.insert((context, *key), draft.action);
                }
            }
        }
        let contexts = drafts.map(|section| {
            section
                .into_iter()
                .filter(|draft| !draft.keys.is_empty())
                .map(|draft| Binding {
                    action: draft.action,
                    keys: draft.keys.into_iter().map(|(key, _)| key).collect(),
                    description: draft.description.unwrap_or_default(),
                })
                .collect()
        });
        Ok(Keymap { contexts, lookup })
    }

    /// The action for a key in a context: the context's own bindings first, then `global`.
    pub fn action_for(&self, context: KeyContext, key: &KeyPress) -> Option<Action> {
        self.lookup
            .get(&(context, *key))
            .or_else(|| self.lookup.get(&(KeyContext::Global, *key)))
            .copied()
    }

    /// The bindings of this context's own section, in file order; `global` is separate.
    pub fn bindings(&self, context: KeyContext) -> Vec<Binding> {
        self.contexts[context.index()].clone()
    }

    /// The key to show in a footer hint for an action, e.g. `?`.
    ///
    /// A global key that the context binds to something else is skipped, so the hint never
    /// names a key that would do something different here.
    pub fn hint(&self, context: KeyContext, action: Action) -> Option<String> {
        [context, KeyContext::Global]
            .into_iter()
            .flat_map(|section| &self.contexts[section.index()])
            .filter(|binding| binding.action == action)
            .flat_map(|binding| &binding.keys)
            .find(|key| self.action_for(context, key) == Some(action))
            .map(KeyPress::to_string)
    }
}

/// An action's keys while layers are merged; each key remembers where it was written.
struct Draft {
    action: Action,
    keys: Vec<(KeyPress, KeyOrigin)>,
    description: Option<String>,
}

#[derive(Debug, Clone)]
struct KeyOrigin {
    at: Location,
    layer: usize,
}

/// One parsed entry of one file.
struct Entry {
    context: KeyContext,
    action: Action,
    keys: Vec<(KeyPress, KeyOrigin)>,
    description: Option<String>,
    at: Location,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBinding {
    keys: Vec<Spanned<String>>,
    description: Option<Spanned<String>>,
}

type RawSection = BTreeMap<Spanned<String>, Spanned<RawBinding>>;

fn parse_layer(layer: &ConfigText, layer_index: usize) -> Result<Vec<Entry>, ConfigError> {
    let raw: BTreeMap<Spanned<String>, Spanned<RawSection>> = layer.deserialize()?;
    // Maps sort by key; sorting by position keeps file order for help and for which error
    // is reported first.
    let mut sections: Vec<_> = raw.into_iter().collect();
    sections.sort_by_key(|(name, _)| name.span().start);
    let mut entries = Vec::new();
    for (section_name, section) in sections {
        let Some(context) = KeyContext::from_name(section_name.get_ref()) else {
            return Err(ConfigError::UnknownContext {
                at: layer.at(section_name.span().start),
                name: section_name.into_inner(),
            });
        };
        let mut bindings: Vec<_> = section.into_inner().into_iter().collect();
        bindings.sort_by_key(|(name, _)| name.span().start);
        for (action_name, binding) in bindings {
            let at = layer.at(action_name.span().start);
            let Some(action) = Action::from_name(action_name.get_ref()) else {
                return Err(ConfigError::UnknownAction {
                    at,
                    name: action_name.into_inner(),
                });
            };
            let binding = binding.into_inner();
            let mut keys: Vec<(KeyPress, KeyOrigin)> = Vec::new();
            for notation in binding.keys {
                let key_at = layer.at(notation.span().start);
                let key = notation.get_ref().parse::<KeyPress>().map_err(|reason| {
                    ConfigError::BadKey {
                        at: key_at.clone(),
                        notation: notation.get_ref().clone(),
                        reason,
                    }
                })?;
                if keys.iter().any(|(seen, _)| *seen == key) {
                    return Err(ConfigError::RepeatedKey {
                        at: key_at,
                        key: key.to_string(),
                        action,
                    });
                }
                keys.push((
                    key,
                    KeyOrigin {
                        at: key_at,
                        layer: layer_index,
                    },
                ));
            }
            let description = match binding.description {
                Some(text) if text.get_ref().chars().any(char::is_control) => {
                    // Help text goes straight to the terminal; an escape sequence here could
                    // rewrite the screen.
                    return Err(ConfigError::Invalid {
                        at: layer.at(text.span().start),
                        message: "a description cannot contain control characters".to_string(),
                    });
                }
                Some(text) if !text.get_ref().trim().is_empty() => Some(text.into_inner()),
                _ => None,
            };
            entries.push(Entry {
                context,
                action,
                keys,
                description,
                at,
            });
        }
    }
    Ok(entries)
}

/// A key may do one thing per context. The error points at the binding from the highest
/// layer, the one the user most likely just wrote.
fn check_duplicates(context: KeyContext, drafts: &[Draft]) -> Result<(), ConfigError> {
    let mut seen: HashMap<KeyPress, (Action, &KeyOrigin)> = HashMap::new();
    for draft in drafts {
        for (key, origin) in &draft.keys {
            let Some((other_action, other_origin)) = seen.insert(*key, (draft.action, origin))
            else {
                continue;
            };
            let newer_is_this =
                (origin.layer, origin.at.line) >= (other_origin.layer, other_origin.at.line);
            let ((action, at), (other, other_at)) = if newer_is_this {
                ((draft.action, origin), (other_action, other_origin))
            } else {
                ((other_action, other_origin), (draft.action, origin))
            };
            return Err(ConfigError::DuplicateKey {
                at: at.at.clone(),
                key: key.to_string(),
                context: context.name(),
                action,
                other,
                other_at: other_at.at.clone(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::keys::KeyCode;

    fn key(notation: &str) -> KeyPress {
        notation.parse().unwrap()
    }

    fn user(text: &str) -> ConfigText {
        ConfigText {
            file: "~/.config/meshtui/keymap.toml".into(),
            text: text.into(),
            builtin: false,
        }
    }

    fn default_with(user_text: &str) -> Result<Keymap, ConfigError> {
        Keymap::from_layers(&[
            ConfigText::builtin(DEFAULT_FILE, DEFAULT_TEXT),
            user(user_text),
        ])
    }

    #[test]
    fn the_default_keymap_binds_the_documented_keys() {
        let keymap = Keymap::builtin("default").unwrap();
        let cases = [
            (
                "q quits from the graph",
                KeyContext::Topology,
                "q",
                Some(Action::Quit),
            ),
            (
                "ctrl c quits",
                KeyContext::EdgeTable,
                "C-c",
                Some(Action::Quit),
            ),
            (
                "h selects left",
                KeyContext::Topology,
                "h",
                Some(Action::SelectLeft),
            ),
            (
                "shift left pans",
                KeyContext::Topology,
                "S-left",
                Some(Action::PanLeft),
            ),
            (
                "J pans down",
                KeyContext::Topology,
                "J",
                Some(Action::PanDown),
            ),
            (
                "+ widens the focus",
                KeyContext::Topology,
                "+",
                Some(Action::WidenFocus),
            ),
            (
                "S reverses the sort",
                KeyContext::EdgeTable,
                "S",
                Some(Action::ReverseSort),
            ),
            (
                "j is the next edge",
                KeyContext::EdgeTable,
                "j",
                Some(Action::SelectDown),
            ),
            (
                "h does nothing in the table",
                KeyContext::EdgeTable,
                "h",
                None,
            ),
            (
                "q closes the help instead of quitting",
                KeyContext::Help,
                "q",
                Some(Action::Back),
            ),
            (
                "? closes the help",
                KeyContext::Help,
                "?",
                Some(Action::Back),
            ),
            (
                "? opens the help elsewhere",
                KeyContext::Topology,
                "?",
                Some(Action::ShowHelp),
            ),
            (
                "global keys work in the help",
                KeyContext::Help,
                "r",
                Some(Action::Refresh),
            ),
            ("an unbound key does nothing", KeyContext::Global, "x", None),
        ];
        for (name, context, notation, expected) in cases {
            assert_eq!(
                keymap.action_for(context, &key(notation)),
                expected,
                "{name}"
            );
        }
    }

    #[test]
    fn the_built_in_keymaps_use_every_action_and_describe_every_binding() {
        for name in BUILTIN_KEYMAPS {
            let keymap = Keymap::builtin(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            for action in Action::ALL {
                let bound = KeyContext::ALL
                    .into_iter()
                    .any(|context| keymap.bindings(context).iter().any(|b| b.action == *action));
                assert!(bound, "{name} keymap does not bind {action}");
            }
            for context in KeyContext::ALL {
                for binding in keymap.bindings(context) {
                    assert!(
                        !binding.description.is_empty(),
                        "{name}: {} in {}",
                        binding.action,
                        context.name()
                    );
                }
            }
        }
    }

    #[test]
    fn a_built_in_entry_without_a_description_is_refused() {
        let layers = [ConfigText::builtin(
            "keymaps/new.toml",
            "[global]\nquit = { keys = [\"q\"] }\n",
        )];
        let error = Keymap::from_layers(&layers).unwrap_err();
        assert_eq!(
            error.to_string(),
            "keymaps/new.toml:2: quit in [global] has no description"
        );
    }

    #[test]
    fn vim_adds_its_keys_and_keeps_the_defaults() {
        let keymap = Keymap::builtin("vim").unwrap();
        let cases = [
            (
                "C-d pages down",
                KeyContext::Topology,
                "C-d",
                Some(Action::PageDown),
            ),
            (
                "pagedown still pages down",
                KeyContext::Topology,
                "pagedown",
                Some(Action::PageDown),
            ),
            (
                "C-u pages up in the table",
                KeyContext::EdgeTable,
                "C-u",
                Some(Action::PageUp),
            ),
            (
                "C-e pans down",
                KeyContext::Topology,
                "C-e",
                Some(Action::PanDown),
            ),
            (
                "z centres",
                KeyContext::Topology,
                "z",
                Some(Action::CenterSelection),
            ),
            (
                "h still selects left",
                KeyContext::Topology,
                "h",
                Some(Action::SelectLeft),
            ),
        ];
        for (name, context, notation, expected) in cases {
            assert_eq!(
                keymap.action_for(context, &key(notation)),
                expected,
                "{name}"
            );
        }
        let page_down = keymap
            .bindings(KeyContext::Topology)
            .into_iter()
            .find(|b| b.action == Action::PageDown);
        assert_eq!(
            page_down.unwrap().description,
            "Scroll one page down",
            "vim inherits the description"
        );
    }

    #[test]
    fn a_user_entry_replaces_that_actions_keys_only() {
        let keymap = default_with("[global]\nquit = { keys = [\"x\"] }\n").unwrap();
        assert_eq!(
            keymap.action_for(KeyContext::Topology, &key("x")),
            Some(Action::Quit)
        );
        assert_eq!(keymap.action_for(KeyContext::Topology, &key("q")), None);
        assert_eq!(keymap.action_for(KeyContext::Topology, &key("C-c")), None);
        assert_eq!(
            keymap.action_for(KeyContext::Topology, &key("?")),
            Some(Action::ShowHelp)
        );
        let quit = keymap
            .bindings(KeyContext::Global)
            .into_iter()
            .find(|b| b.action == Action::Quit)
            .unwrap();
        assert_eq!(
            quit,
            Binding {
                action: Action::Quit,
                keys: vec![key("x")],
                description: "Quit meshtui".into()
            }
        );
    }

    #[test]
    fn a_user_entry_can_add_an_action_to_a_context_or_unbind_one() {
        let keymap = default_with(
            "[edge_table]\nfind = { keys = [\"f\"] }\n[topology]\ntoggle_focus = { keys = [] }\n",
        )
        .unwrap();
        assert_eq!(
            keymap.action_for(KeyContext::EdgeTable, &key("f")),
            Some(Action::Find)
        );
        assert_eq!(keymap.action_for(KeyContext::Topology, &key("f")), None);
        let added = keymap.bindings(KeyContext::EdgeTable).pop().unwrap();
        assert_eq!(
            added.description,
            Action::Find.description(),
            "a new user entry falls back to the action's line"
        );
        assert!(keymap
            .bindings(KeyContext::Topology)
            .iter()
            .all(|b| b.action != Action::ToggleFocus));
    }

    #[test]
    fn bindings_keep_file_order() {
        let keymap = Keymap::builtin("default").unwrap();
        let actions: Vec<Action> = keymap
            .bindings(KeyContext::EdgeTable)
            .iter()
            .map(|b| b.action)
            .collect();
        assert_eq!(
            actions,
            [
                Action::SelectUp,
                Action::SelectDown,
                Action::PageUp,
                Action::PageDown,
                Action::CycleSort,
                Action::ReverseSort,
                Action::OpenDetail
            ]
        );
    }

    #[test]
    fn hints_name_a_key_that_works_in_the_context() {
        let keymap = Keymap::builtin("default").unwrap();
        let cases = [
            (
                "help opens with ?",
                KeyContext::Topology,
                Action::ShowHelp,
                Some("?"),
            ),
            (
                "quit is q in the graph",
                KeyContext::Topology,
                Action::Quit,
                Some("q"),
            ),
            (
                "quit is C-c in the help, where q closes it",
                KeyContext::Help,
                Action::Quit,
                Some("C-c"),
            ),
            (
                "back in the help is esc",
                KeyContext::Help,
                Action::Back,
                Some("esc"),
            ),
            (
                "a context's own key",
                KeyContext::EdgeTable,
                Action::CycleSort,
                Some("s"),
            ),
            ("unbound here", KeyContext::EdgeTable, Action::PanLeft, None),
        ];
        for (name, context, action, expected) in cases {
            assert_eq!(keymap.hint(context, action).as_deref(), expected, "{name}");
        }
    }

    #[test]
    fn a_key_bound_twice_in_one_context_is_refused() {
        let error = default_with("[edge_table]\ncycle_sort = { keys = [\"j\"] }\n").unwrap_err();
        // Where select_down sits in [edge_table] of the shipped file, found as a reader would.
        let section = DEFAULT_TEXT.find("[edge_table]").unwrap();
        let offset = section + DEFAULT_TEXT[section..].find("\nselect_down").unwrap() + 1;
        let line = DEFAULT_TEXT[..offset].lines().count() + 1;
        assert_eq!(
            error.to_string(),
            format!(
                "~/.config/meshtui/keymap.toml:2: key \"j\" is bound to both cycle_sort and select_down in \
                 [edge_table] (select_down is at keymaps/default.toml:{line})"
            )
        );
    }

    #[test]
    fn a_duplicate_is_reported_at_the_users_line_even_when_the_default_comes_later() {
        let error = default_with("[edge_table]\nselect_up = { keys = [\"s\"] }\n").unwrap_err();
        assert!(
            error.to_string().starts_with("~/.config/meshtui/keymap.toml:2: key \"s\" is bound to both select_up and cycle_sort"),
            "{error}"
        );
    }

    #[test]
    fn a_context_may_shadow_a_global_key() {
        let keymap = default_with("[topology]\nrefresh = { keys = [\"q\"] }\n").unwrap();
        assert_eq!(
            keymap.action_for(KeyContext::Topology, &key("q")),
            Some(Action::Refresh)
        );
        assert_eq!(
            keymap.action_for(KeyContext::EdgeTable, &key("q")),
            Some(Action::Quit)
        );
    }

    #[test]
    fn bad_user_keymaps_name_the_file_and_line() {
        let file = "~/.config/meshtui/keymap.toml";
        let cases = [
            ("an unknown action", "[topology]\n\nselec_left = { keys = [\"h\"] }\n", format!("{file}:3: unknown action \"selec_left\"")),
            (
                "an unknown section",
                "[graph]\nquit = { keys = [\"q\"] }\n",
                format!("{file}:1: [graph] is not a keymap section (expected one of: global, topology, edge_table, help)"),
            ),
            (
                "bad key notation",
                "[global]\nquit = { keys = [\"q\",\n  \"X-q\"] }\n",
                format!("{file}:3: bad key \"X-q\": \"X-\" is not a modifier (expected C-, A- or S-)"),
            ),
            (
                "a key listed twice",
                "[global]\nquit = { keys = [\"q\", \"q\"] }\n",
                format!("{file}:2: key \"q\" is listed twice for quit"),
            ),
            (
                "an unknown field",
                "[global]\nquit = { key = [\"q\"] }\n",
                format!("{file}:2: unknown field `key`, expected `keys` or `description`"),
            ),
            ("keys that are not a list", "[global]\nquit = { keys = \"q\" }\n", format!("{file}:2: invalid type: string \"q\", expected a sequence")),
            ("a syntax error", "[global]\nquit = { keys = [\"q\" }\n", format!("{file}:2: ")),
            (
                "an escape sequence in a description",
                "[global]\nquit = { keys = [\"q\"], description = \"\\u001b[2J\" }\n",
                format!("{file}:2: a description cannot contain control characters"),
            ),
        ];
        for (name, text, expected) in cases {
            let message = default_with(text).unwrap_err().to_string();
            assert!(message.starts_with(&expected), "{name}: {message}");
        }
    }

    #[test]
    fn the_whole_unknown_action_message_is_what_the_user_sees() {
        let layers = [
            ConfigText::builtin(DEFAULT_FILE, DEFAULT_TEXT),
            ConfigText::builtin(
                VIM_FILE,
                "# vim\n[topology]\nselec_left = { keys = [\"h\"] }\n",
            ),
        ];
        let error = Keymap::from_layers(&layers).unwrap_err();
        assert_eq!(
            error.to_string(),
            "keymaps/vim.toml:3: unknown action \"selec_left\""
        );
    }

    #[test]
    fn keys_from_crossterm_find_their_action() {
        use crossterm::event::{KeyCode as TermKeyCode, KeyEvent, KeyModifiers};
        let keymap = Keymap::builtin("default").unwrap();
        let event = KeyEvent::new(TermKeyCode::Char('J'), KeyModifiers::SHIFT);
        let pressed = KeyPress::from_crossterm(&event).unwrap();
        assert_eq!(pressed.code, KeyCode::Char('J'));
        assert_eq!(
            keymap.action_for(KeyContext::Topology, &pressed),
            Some(Action::PanDown)
        );
    }
}
