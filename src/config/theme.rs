//! Themes: a style per semantic slot, layered from built-in and user files and reduced to the
//! terminal's colour depth once, at load.

use ratatui::style::{Color, Modifier, Style};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::colour::{parse_colour, reduce, ColorDepth};
use super::{ConfigError, ConfigText, Location};

/// The built-in themes a user can choose by name; each is layered over `dark`.
pub const BUILTIN_THEMES: &[&str] = &["dark", "light", "high-contrast", "monochrome"];

const BUILTIN_FILES: [(&str, &str, &str); 4] = [
    (
        "dark",
        "themes/dark.toml",
        include_str!("../../themes/dark.toml"),
    ),
    (
        "light",
        "themes/light.toml",
        include_str!("../../themes/light.toml"),
    ),
    (
        "high-contrast",
        "themes/high-contrast.toml",
        include_str!("../../themes/high-contrast.toml"),
    ),
    (
        "monochrome",
        "themes/monochrome.toml",
        include_str!("../../themes/monochrome.toml"),
    ),
];

/// The built-in theme file of that name, as a layer.
pub(super) fn builtin_layer(name: &str) -> Option<ConfigText> {
    BUILTIN_FILES
        .iter()
        .find(|(builtin, _, _)| *builtin == name)
        .map(|(_, file, text)| ConfigText::builtin(file, text))
}

macro_rules! slots {
    ($( $variant:ident => $name:literal, )*) => {
        /// A meaning on screen; widgets ask the theme for one of these, never for a colour.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Slot {
            $( $variant, )*
        }

        impl Slot {
            pub const ALL: &'static [Slot] = &[ $( Slot::$variant, )* ];

            /// The name in theme files, e.g. `health.ok`.
            pub fn name(self) -> &'static str {
                match self { $( Slot::$variant => $name, )* }
            }
        }
    };
}

slots! {
    Text => "text",
    Muted => "muted",
    Border => "border",
    Title => "title",
    HealthOk => "health.ok",
    HealthWarn => "health.warn",
    HealthFail => "health.fail",
    HealthNone => "health.none",
    EdgeMtls => "edge.mtls",
    EdgePlain => "edge.plain",
    Selection => "selection",
    Focus => "focus",
    Match => "match",
    Danger => "danger",
    Status => "status",
    DemoBadge => "demo_badge",
    HelpKey => "help.key",
    FormField => "form.field",
    FormFocus => "form.focus",
    FormError => "form.error",
    DiffAdded => "diff.added",
    DiffRemoved => "diff.removed",
    DiffHunk => "diff.hunk",
    YamlKey => "yaml.key",
    YamlString => "yaml.string",
    YamlLiteral => "yaml.literal",
    Trend => "trend",
}

const SLOT_COUNT: usize = Slot::ALL.len();

impl Slot {
    pub fn from_name(name: &str) -> Option<Slot> {
        Slot::ALL.iter().copied().find(|slot| slot.name() == name)
    }

    /// Slot names with a dot are written as nested tables (`[health]` `ok = ...`) by TOML.
    fn is_group(name: &str) -> bool {
        Slot::ALL.iter().any(|slot| {
            slot.name()
                .split_once('.')
                .is_some_and(|(group, _)| group == name)
        })
    }

    fn name_list() -> String {
        let names: Vec<&str> = Slot::ALL.iter().map(|slot| slot.name()).collect();
        names.join(", ")
    }
}

const MODIFIERS: [(&str, Modifier); 5] = [
    ("bold", Modifier::BOLD),
    ("reversed", Modifier::REVERSED),
    ("underlined", Modifier::UNDERLINED),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
];

/// A slot as a theme file gives it, before reduction to a colour depth.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct SlotStyle {
    fg: Option<Color>,
    bg: Option<Color>,
    modifiers: Modifier,
    /// Added only when colours are off, so selection and health stay visible without colour.
    mono: Option<Modifier>,
}

impl SlotStyle {
    fn at_depth(&self, depth: ColorDepth) -> Style {
        let mut style = Style::default();
        if let Some(fg) = self.fg.and_then(|colour| reduce(colour, depth)) {
            style = style.fg(fg);
        }
        if let Some(bg) = self.bg.and_then(|colour| reduce(colour, depth)) {
            style = style.bg(bg);
        }
        let mut modifiers = self.modifiers;
        if depth == ColorDepth::Never {
            modifiers |= self.mono.unwrap_or(Modifier::empty());
        }
        if !modifiers.is_empty() {
            style = style.add_modifier(modifiers);
        }
        style
    }
}

/// Styles for every slot, already reduced to the terminal's colour depth.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    styles: [Style; SLOT_COUNT],
    depth: ColorDepth,
}

impl Theme {
    /// A built-in theme (see [`BUILTIN_THEMES`]) without user overrides.
    pub fn builtin(name: &str, depth: ColorDepth) -> Result<Theme, ConfigError> {
        let Some(chosen) = builtin_layer(name) else {
            return Err(ConfigError::UnknownTheme {
                at: Location::option("theme"),
                name: name.to_string(),
            });
        };
        let mut layers = Vec::from_iter(builtin_layer("dark"));
        if name != "dark" {
            layers.push(chosen);
        }
        Theme::from_layers(&layers, depth)
    }

    /// Layers theme files, lowest first. A slot a file gives replaces the colours and modifiers
    /// below it as a whole (so a user can drop a background), but keeps the `mono` modifiers
    /// unless it sets its own: a user recolouring the selection must not make it vanish when
    /// colours are off.
    pub(super) fn from_layers(
        layers: &[ConfigText],
        depth: ColorDepth,
    ) -> Result<Theme, ConfigError> {
        let mut slots = [SlotStyle::default(); SLOT_COUNT];
        for layer in layers {
            for (slot, given) in parse_layer(layer)? {
                let below = slots[slot as usize];
                slots[slot as usize] = SlotStyle {
                    mono: given.mono.or(below.mono),
                    ..given
                };
            }
        }
        Ok(Theme {
            styles: slots.map(|slot| slot.at_depth(depth)),
            depth,
        })
    }

    /// The style for a meaning, ready to draw.
    pub fn style(&self, slot: Slot) -> Style {
        self.styles[slot as usize]
    }

    pub fn depth(&self) -> ColorDepth {
        self.depth
    }
}

fn parse_layer(layer: &ConfigText) -> Result<Vec<(Slot, SlotStyle)>, ConfigError> {
    let root = DeTable::parse(&layer.text).map_err(|error| layer.toml_error(&error))?;
    let mut found: Vec<(Slot, usize, SlotStyle)> = Vec::new();
    let mut add =
        |slot: Slot, key_start: usize, value: &Spanned<DeValue<'_>>| -> Result<(), ConfigError> {
            if found.iter().any(|(seen, _, _)| *seen == slot) {
                // Possible through `health.ok` and `"health.ok"`; which one wins would be a guess.
                return Err(ConfigError::Invalid {
                    at: layer.at(key_start),
                    message: format!("\"{}\" is given twice", slot.name()),
                });
            }
            found.push((slot, key_start, parse_slot(layer, slot, value)?));
            Ok(())
        };
    let mut entries: Vec<_> = root.get_ref().iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    for (key, value) in entries {
        let name = key.get_ref().as_ref();
        if let Some(slot) = Slot::from_name(name) {
            add(slot, key.span().start, value)?;
            continue;
        }
        let group = match value.get_ref() {
            DeValue::Table(group) if Slot::is_group(name) => group,
            _ => return Err(unknown_slot(layer, key.span().start, name)),
        };
        let mut members: Vec<_> = group.iter().collect();
        members.sort_by_key(|(member, _)| member.span().start);
        for (member, value) in members {
            let full_name = format!("{name}.{}", member.get_ref());
            match Slot::from_name(&full_name) {
                Some(slot) => add(slot, member.span().start, value)?,
                None => return Err(unknown_slot(layer, member.span().start, &full_name)),
            }
        }
    }
    found.sort_by_key(|(_, start, _)| *start);
    Ok(found
        .into_iter()
        .map(|(slot, _, style)| (slot, style))
        .collect())
}

fn unknown_slot(layer: &ConfigText, offset: usize, name: &str) -> ConfigError {
    ConfigError::UnknownSlot {
        at: layer.at(offset),
        name: name.to_string(),
        expected: Slot::name_list(),
    }
}

fn parse_slot(
    layer: &ConfigText,
    slot: Slot,
    value: &Spanned<DeValue<'_>>,
) -> Result<SlotStyle, ConfigError> {
    let DeValue::Table(table) = value.get_ref() else {
        return Err(ConfigError::Invalid {
            at: layer.at(value.span().start),
            message: format!(
                "\"{}\" must be a table such as {{ fg = \"red\", modifiers = [\"bold\"] }}",
                slot.name()
            ),
        });
    };
    let mut style = SlotStyle::default();
    for (field, value) in table.iter() {
        match field.get_ref().as_ref() {
            "fg" => style.fg = Some(parse_colour_value(layer, value)?),
            "bg" => style.bg = Some(parse_colour_value(layer, value)?),
            "modifiers" => style.modifiers = parse_modifiers(layer, value)?,
            "mono" => style.mono = Some(parse_modifiers(layer, value)?),
            other => {
                return Err(ConfigError::Invalid {
                    at: layer.at(field.span().start),
                    message: format!(
                        "unknown field \"{other}\" in \"{}\" (expected fg, bg, modifiers or mono)",
                        slot.name()
                    ),
                })
            }
        }
    }
    Ok(style)
}

fn parse_colour_value(
    layer: &ConfigText,
    value: &Spanned<DeValue<'_>>,
) -> Result<Color, ConfigError> {
    let at = layer.at(value.span().start);
    let Some(text) = value.get_ref().as_str() else {
        return Err(ConfigError::Invalid {
            at,
            message: format!(
                "a colour must be a string such as \"red\", \"#ff8700\" or \"208\", not {}",
                value.get_ref().type_str()
            ),
        });
    };
    parse_colour(text).map_err(|reason| ConfigError::BadColour {
        at,
        value: text.to_string(),
        reason,
    })
}

fn parse_modifiers(
    layer: &ConfigText,
    value: &Spanned<DeValue<'_>>,
) -> Result<Modifier, ConfigError> {
    let Some(items) = value.get_ref().as_array() else {
        return Err(ConfigError::Invalid {
            at: layer.at(value.span().start),
            message: "modifiers must be a list such as [\"bold\", \"reversed\"]".to_string(),
        });
    };
    let mut modifiers = Modifier::empty();
    for item in items.iter() {
        let name = item.get_ref().as_str();
        let modifier = name.and_then(|name| MODIFIERS.iter().find(|(known, _)| *known == name));
        match modifier {
            Some((_, modifier)) => modifiers |= *modifier,
            None => {
                return Err(ConfigError::BadModifier {
                    at: layer.at(item.span().start),
                    name: name.map_or_else(
                        || item.get_ref().type_str().to_string(),
                        |name| format!("\"{name}\""),
                    ),
                })
            }
        }
    }
    Ok(modifiers)
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPTHS: [ColorDepth; 4] = [
        ColorDepth::TrueColor,
        ColorDepth::Ansi256,
        ColorDepth::Ansi16,
        ColorDepth::Never,
    ];

    fn user(text: &str) -> ConfigText {
        ConfigText {
            file: "~/.config/meshtui/theme.toml".into(),
            text: text.into(),
            builtin: false,
        }
    }

    fn dark_with(text: &str, depth: ColorDepth) -> Result<Theme, ConfigError> {
        Theme::from_layers(&[builtin_layer("dark").unwrap(), user(text)], depth)
    }

    #[test]
    fn every_built_in_theme_loads_at_every_depth() {
        for name in BUILTIN_THEMES {
            for depth in DEPTHS {
                let theme = Theme::builtin(name, depth).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_eq!(theme.depth(), depth);
            }
        }
    }

    #[test]
    fn every_built_in_theme_gives_every_slot_itself() {
        // A built-in theme that left a slot to dark would mix dark's colours into it.
        for (name, _, _) in BUILTIN_FILES {
            let layer = builtin_layer(name).unwrap();
            let slots: Vec<Slot> = parse_layer(&layer)
                .unwrap()
                .into_iter()
                .map(|(slot, _)| slot)
                .collect();
            for slot in Slot::ALL {
                assert!(slots.contains(slot), "{name} does not give {}", slot.name());
            }
        }
    }

    #[test]
    fn without_colour_every_theme_keeps_selection_and_health_apart() {
        for name in BUILTIN_THEMES {
            let theme = Theme::builtin(name, ColorDepth::Never).unwrap();
            for slot in Slot::ALL {
                let style = theme.style(*slot);
                assert_eq!(
                    (style.fg, style.bg),
                    (None, None),
                    "{name}: {} has a colour",
                    slot.name()
                );
            }
            let selection = theme.style(Slot::Selection).add_modifier;
            assert!(
                selection.contains(Modifier::REVERSED | Modifier::BOLD),
                "{name}: selection is {selection:?}"
            );
            assert!(
                theme
                    .style(Slot::HealthFail)
                    .add_modifier
                    .contains(Modifier::BOLD),
                "{name}"
            );
            assert!(
                theme
                    .style(Slot::DemoBadge)
                    .add_modifier
                    .contains(Modifier::REVERSED),
                "{name}"
            );
            let distinct = [
                Slot::Selection,
                Slot::HealthOk,
                Slot::HealthWarn,
                Slot::HealthFail,
                Slot::HealthNone,
            ]
            .map(|slot| theme.style(slot).add_modifier);
            for (i, a) in distinct.iter().enumerate() {
                for b in &distinct[i + 1..] {
                    assert_ne!(
                        a, b,
                        "{name}: two of selection and health look the same without colour"
                    );
                }
            }
        }
    }

    #[test]
    fn monochrome_uses_no_colour_even_in_truecolor() {
        let theme = Theme::builtin("monochrome", ColorDepth::TrueColor).unwrap();
        for slot in Slot::ALL {
            let style = theme.style(*slot);
            assert_eq!((style.fg, style.bg), (None, None), "{}", slot.name());
        }
    }

    #[test]
    fn colours_are_reduced_when_the_theme_is_built() {
        let text = "selection = { fg = \"#ff0000\", bg = \"238\", modifiers = [\"bold\"], mono = [\"reversed\"] }\n";
        let cases = [
            (
                "truecolor",
                ColorDepth::TrueColor,
                Some(Color::Rgb(255, 0, 0)),
                Some(Color::Indexed(238)),
                Modifier::BOLD,
            ),
            (
                "256 colours",
                ColorDepth::Ansi256,
                Some(Color::Indexed(196)),
                Some(Color::Indexed(238)),
                Modifier::BOLD,
            ),
            (
                "16 colours",
                ColorDepth::Ansi16,
                Some(Color::LightRed),
                Some(Color::DarkGray),
                Modifier::BOLD,
            ),
            (
                "no colour",
                ColorDepth::Never,
                None,
                None,
                Modifier::BOLD | Modifier::REVERSED,
            ),
        ];
        for (name, depth, fg, bg, modifiers) in cases {
            let style = dark_with(text, depth).unwrap().style(Slot::Selection);
            assert_eq!(
                (style.fg, style.bg, style.add_modifier),
                (fg, bg, modifiers),
                "{name}"
            );
        }
    }

    #[test]
    fn a_user_theme_replaces_only_the_slots_it_gives() {
        let dark = Theme::builtin("dark", ColorDepth::TrueColor).unwrap();
        let theme =
            dark_with("[health]\nok = { fg = \"green\" }\n", ColorDepth::TrueColor).unwrap();
        assert_eq!(
            theme.style(Slot::HealthOk),
            Style::default().fg(Color::Green)
        );
        assert_eq!(theme.style(Slot::HealthFail), dark.style(Slot::HealthFail));
        assert_eq!(theme.style(Slot::Text), dark.style(Slot::Text));
    }

    #[test]
    fn a_recoloured_selection_keeps_its_mono_modifiers() {
        let theme = dark_with("selection = { bg = \"blue\" }\n", ColorDepth::Never).unwrap();
        assert!(theme
            .style(Slot::Selection)
            .add_modifier
            .contains(Modifier::REVERSED));
        let theme = dark_with("selection = { bg = \"blue\" }\n", ColorDepth::TrueColor).unwrap();
        assert_eq!(
            theme.style(Slot::Selection),
            Style::default().bg(Color::Blue)
        );
    }

    #[test]
    fn three_layers_stack_in_order() {
        let layers = [
            builtin_layer("dark").unwrap(),
            builtin_layer("light").unwrap(),
            user("text = { fg = \"white\" }\n\"edge.mtls\" = { fg = \"cyan\" }\n"),
        ];
        let theme = Theme::from_layers(&layers, ColorDepth::TrueColor).unwrap();
        let light = Theme::builtin("light", ColorDepth::TrueColor).unwrap();
        assert_eq!(theme.style(Slot::Text).fg, Some(Color::White));
        assert_eq!(theme.style(Slot::EdgeMtls).fg, Some(Color::Cyan));
        assert_eq!(theme.style(Slot::Title), light.style(Slot::Title));
    }

    #[test]
    fn bad_user_themes_name_the_file_and_line() {
        let file = "~/.config/meshtui/theme.toml";
        let slots = Slot::name_list();
        let cases = [
            (
                "an unknown slot in a group",
                "text = { fg = \"red\" }\n\nhealth.okk = { fg = \"green\" }\n".to_string(),
                format!("{file}:3: \"health.okk\" is not a theme slot (expected one of: {slots})"),
            ),
            (
                "an unknown slot in a table",
                "[edge]\nmtls = {}\ntls = {}\n".to_string(),
                format!("{file}:3: \"edge.tls\" is not a theme slot (expected one of: {slots})"),
            ),
            (
                "an unknown top-level slot",
                "selected = { bg = \"blue\" }\n".to_string(),
                format!("{file}:1: \"selected\" is not a theme slot (expected one of: {slots})"),
            ),
            (
                "a group given a style",
                "health = { fg = \"red\" }\n".to_string(),
                format!("{file}:1: \"health.fg\" is not a theme slot (expected one of: {slots})"),
            ),
            (
                "a bad colour name",
                "text = {}\nmuted = { fg = \"grey\" }\n".to_string(),
                format!(
                    "{file}:2: bad colour \"grey\": expected a colour name (black, red, green, yellow, blue, magenta, \
                     cyan, gray, dark_gray, light_red, light_green, light_yellow, light_blue, light_magenta, \
                     light_cyan, white, reset), \"#rrggbb\" or a palette index such as \"238\""
                ),
            ),
            (
                "a bad hex colour",
                "[health]\nok = { bg = \"#12345\" }\n".to_string(),
                format!("{file}:2: bad colour \"#12345\": expected \"#rrggbb\" with six hexadecimal digits"),
            ),
            (
                "a colour as a number",
                "text = { fg = 238 }\n".to_string(),
                format!("{file}:1: a colour must be a string such as \"red\", \"#ff8700\" or \"208\", not integer"),
            ),
            (
                "a bad modifier",
                "title = { modifiers = [\"bold\",\n \"blink\"] }\n".to_string(),
                format!(
                    "{file}:2: \"blink\" is not a modifier (expected one of: bold, reversed, underlined, dim, italic)"
                ),
            ),
            (
                "an unknown field",
                "title = { colour = \"red\" }\n".to_string(),
                format!("{file}:1: unknown field \"colour\" in \"title\" (expected fg, bg, modifiers or mono)"),
            ),
            ("a slot given twice", "health.ok = {}\n\"health.ok\" = {}\n".to_string(), format!("{file}:2: \"health.ok\" is given twice")),
            ("a slot that is not a table", "text = \"red\"\n".to_string(), format!("{file}:1: \"text\" must be a table")),
            ("a syntax error", "text = { fg = \"red\" \n".to_string(), format!("{file}:1: ")),
        ];
        for (name, text, expected) in cases {
            let message = dark_with(&text, ColorDepth::TrueColor)
                .unwrap_err()
                .to_string();
            assert!(message.starts_with(&expected), "{name}: {message}");
        }
    }

    #[test]
    fn an_empty_user_theme_changes_nothing() {
        assert_eq!(
            dark_with("", ColorDepth::Ansi256).unwrap(),
            Theme::builtin("dark", ColorDepth::Ansi256).unwrap()
        );
    }
}
