//! Where user files live (XDG) and how their paths are shown in messages.

use std::path::{Path, PathBuf};

pub const CONFIG_FILE: &str = "config.toml";
pub const KEYMAP_FILE: &str = "keymap.toml";
pub const THEME_FILE: &str = "theme.toml";

/// `$XDG_CONFIG_HOME/meshtui`, else `$HOME/.config/meshtui`; `None` when neither is usable,
/// in which case there are simply no user files.
pub fn config_dir(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    // The XDG spec says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    let xdg = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|path| path.is_absolute());
    let base = xdg.or_else(|| {
        env("HOME")
            .filter(|home| !home.is_empty())
            .map(|home| Path::new(&home).join(".config"))
    })?;
    Some(base.join("meshtui"))
}

/// The path as a user would type it: `~/.config/meshtui/theme.toml` rather than `/home/ana/...`.
pub fn display_path(path: &Path, env: &dyn Fn(&str) -> Option<String>) -> String {
    let home = env("HOME").filter(|home| !home.is_empty() && home != "/");
    if let Some(rest) = home.and_then(|home| path.strip_prefix(home).ok().map(Path::to_path_buf)) {
        return Path::new("~").join(rest).display().to_string();
    }
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Environment variables for one case.
    type Vars = &'static [(&'static str, &'static str)];

    fn env_of(vars: Vars) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.to_string())
        }
    }

    #[test]
    fn the_config_dir_follows_xdg() {
        let cases: [(&str, Vars, Option<&str>); 5] = [
            (
                "XDG_CONFIG_HOME wins",
                &[("XDG_CONFIG_HOME", "/xdg"), ("HOME", "/home/ana")],
                Some("/xdg/meshtui"),
            ),
            (
                "HOME is the fallback",
                &[("HOME", "/home/ana")],
                Some("/home/ana/.config/meshtui"),
            ),
            (
                "a relative XDG_CONFIG_HOME is ignored",
                &[("XDG_CONFIG_HOME", "cfg"), ("HOME", "/home/ana")],
                Some("/home/ana/.config/meshtui"),
            ),
            ("an empty HOME gives no dir", &[("HOME", "")], None),
            ("nothing set gives no dir", &[], None),
        ];
        for (name, vars, expected) in cases {
            assert_eq!(
                config_dir(&env_of(vars)),
                expected.map(PathBuf::from),
                "{name}"
            );
        }
    }

    #[test]
    fn paths_under_home_are_shown_with_a_tilde() {
        let env = env_of(&[("HOME", "/home/ana")]);
        let cases = [
            (
                "under home",
                "/home/ana/.config/meshtui/theme.toml",
                "~/.config/meshtui/theme.toml",
            ),
            (
                "elsewhere",
                "/etc/meshtui/theme.toml",
                "/etc/meshtui/theme.toml",
            ),
            (
                "a sibling with the same prefix",
                "/home/anabel/theme.toml",
                "/home/anabel/theme.toml",
            ),
            ("relative", "themes/mine.toml", "themes/mine.toml"),
        ];
        for (name, path, expected) in cases {
            assert_eq!(display_path(Path::new(path), &env), expected, "{name}");
        }
    }
}
