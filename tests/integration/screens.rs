//! Screens at fixed sizes through TestBackend and insta.
