//! Everything a user can ask for, named once: keymaps, the help overlay and the README read these.

use serde::{Deserialize, Serialize};

macro_rules! actions {
    ($( $variant:ident => $name:literal, $description:literal; )*) => {
        /// A user intent. The serde name is what keymap files use.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Action {
            $( $variant, )*
        }

        impl Action {
            pub const ALL: &'static [Action] = &[ $( Action::$variant, )* ];

            /// The name used in keymap files, e.g. `select_left`.
            pub fn name(self) -> &'static str {
                match self { $( Action::$variant => $name, )* }
            }

            /// One line for the help overlay and the footer.
            pub fn description(self) -> &'static str {
                match self { $( Action::$variant => $description, )* }
            }

            pub fn from_name(name: &str) -> Option<Action> {
                match name { $( $name => Some(Action::$variant), )* _ => None }
            }
        }
    };
}

actions! {
    Quit => "quit", "Quit meshtui";
    ShowHelp => "show_help", "Show the key bindings";
    Back => "back", "Close the overlay, go back a view or leave a mode";
    SelectLeft => "select_left", "Select the node to the left";
    SelectRight => "select_right", "Select the node to the right";
    SelectUp => "select_up", "Select the node above (previous row in tables)";
    SelectDown => "select_down", "Select the node below (next row in tables)";
    PanLeft => "pan_left", "Scroll the view left";
    PanRight => "pan_right", "Scroll the view right";
    PanUp => "pan_up", "Scroll the view up";
    PanDown => "pan_down", "Scroll the view down";
    PageUp => "page_up", "Scroll one page up";
    PageDown => "page_down", "Scroll one page down";
    CenterSelection => "center_selection", "Centre the view on the selection";
    ToggleFocus => "toggle_focus", "Show only the neighbourhood of the selection";
    WidenFocus => "widen_focus", "Show one more hop around the selection";
    NarrowFocus => "narrow_focus", "Show one hop less around the selection";
    CycleNamespace => "cycle_namespace", "Filter by the next namespace (all, then each)";
    Find => "find", "Find a node by name; filter a list";
    ToggleEdgeTable => "toggle_edge_table", "Switch between the graph and the edge table";
    OpenDetail => "open_detail", "Open the selection's view (workload, service, app)";
    NextTab => "next_tab", "Next tab (pods, inbound, outbound, interfaces, logs)";
    PreviousTab => "previous_tab", "Previous tab";
    ToggleServiceNodes => "toggle_service_nodes", "Show or hide service nodes";
    ToggleIdleNodes => "toggle_idle_nodes", "Show or hide idle nodes (known, no traffic)";
    CycleGraphType => "cycle_graph_type", "Next graph type (versioned app/app/workload/service)";
    CycleSort => "cycle_sort", "Sort the edge table by the next column";
    ReverseSort => "reverse_sort", "Reverse the edge table's order";
    Refresh => "refresh", "Refresh the data now";
    TogglePause => "toggle_pause", "Pause or resume live updates";
    ShowTree => "show_tree", "Open the tree of clusters, namespaces, apps and pods";
    EditRules => "edit_rules", "Edit the selected service's routing rules";
    CommandLine => "command_line", "Type a command (:wl, :svc, :ns, :shift, :undo ...)";
    UndoRule => "undo_rule", "Undo the last rule change";
    NextField => "next_field", "Next field (scrolls the diff)";
    PreviousField => "previous_field", "Previous field (scrolls the diff)";
    Decrease => "decrease", "Lower a weight by 1, or the previous choice";
    Increase => "increase", "Raise a weight by 1, or the next choice";
    DecreaseMore => "decrease_more", "Lower a weight by 10";
    IncreaseMore => "increase_more", "Raise a weight by 10";
    ToggleLock => "toggle_lock", "Lock or unlock a weight (the others balance)";
    AddRule => "add_rule", "Add a canary rule";
    RemoveRule => "remove_rule", "Remove the canary rule";
    MoveRuleUp => "move_rule_up", "Move the canary rule up (tried earlier)";
    MoveRuleDown => "move_rule_down", "Move the canary rule down (tried later)";
    Submit => "submit", "Preview the change; in the diff, apply it";
    ForceApply => "force_apply", "Take over fields other managers own (409)";
    ShowInterfaces => "show_interfaces", "Show the selected workload's operations";
    EnableOperations => "enable_operations", "Enable the operation label in this namespace";
    ToggleFollow => "toggle_follow", "Follow the newest log lines, or pause the scroll";
    CycleStatusFilter => "cycle_status_filter", "Show the next status class (all/2xx/3xx/4xx/5xx)";
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::Action;

    #[test]
    fn every_action_round_trips_through_its_name() {
        for action in Action::ALL {
            assert_eq!(Action::from_name(action.name()), Some(*action));
            assert!(!action.description().is_empty());
        }
        assert_eq!(Action::from_name("no_such_action"), None);
    }
}
