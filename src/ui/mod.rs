//! Draws `&State` with ratatui; owns no data. Imports `app`, `layout`, `config`, `mesh`.
