//! Keymaps, themes and the user config file; errors name the file and line. Imports only `app::action`.
