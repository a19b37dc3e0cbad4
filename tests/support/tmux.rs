//! Drives a real terminal: a private tmux server, a shell in it, keys sent, screens read.

use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::sleep;
use std::time::{Duration, Instant};

static SESSIONS: AtomicU32 = AtomicU32::new(0);

/// A tmux server of its own (its own socket), so tests never touch a user's sessions.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `sh` in a detached session of the given size. Panics with a clear message when
    /// tmux is not installed: this test needs a real terminal and must not pass without one.
    pub fn start(width: u16, height: u16) -> Tmux {
        let version = Command::new("tmux").arg("-V").output();
        assert!(
            version.as_ref().is_ok_and(|o| o.status.success()),
            "tmux is required for this test; install it (scripts/test does: apt-get install -y tmux)"
        );
        let socket = format!(
            "meshtui-test-{}-{}",
            std::process::id(),
            SESSIONS.fetch_add(1, Ordering::SeqCst)
        );
        let tmux = Tmux { socket };
        let out = tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "env",
            "-i",
            "PATH=/usr/bin:/bin",
            "TERM=xterm-256color",
            "LANG=C.UTF-8",
            "HOME=/tmp",
            "PS1=$ ",
            "sh",
        ]);
        assert!(
            out.status.success(),
            "tmux new-session failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        tmux.wait_for("a shell prompt", Duration::from_secs(10), |s| {
            s.contains('$')
        });
        tmux
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("running tmux")
    }

    /// Types text literally, then presses Enter.
    pub fn type_line(&self, text: &str) {
        self.run(&["send-keys", "-t", "main", "-l", text]);
        self.run(&["send-keys", "-t", "main", "Enter"]);
    }

    /// Sends keys by tmux name (`Right`, `q`, `?`, `Escape`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "main"];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    pub fn screen(&self) -> String {
        let out = self.run(&["capture-pane", "-p", "-t", "main"]);
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The command running in the pane (`sh` once a program has exited).
    pub fn current_command(&self) -> String {
        let out = self.run(&[
            "display-message",
            "-p",
            "-t",
            "main",
            "#{pane_current_command}",
        ]);
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    }

    /// Process ids of the programs the pane's shell is running (its children).
    pub fn foreground_pids(&self) -> Vec<u32> {
        let out = self.run(&["display-message", "-p", "-t", "main", "#{pane_pid}"]);
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .unwrap_or_default();
        children
            .split_whitespace()
            .filter_map(|pid| pid.parse().ok())
            .collect()
    }

    /// Polls the screen until `ready` holds; panics with the last screen when it never does.
    pub fn wait_for(&self, what: &str, limit: Duration, ready: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            if start.elapsed() > limit {
                panic!("waited {limit:?} for {what}; the screen shows:\n{screen}");
            }
            sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

/// The binary cargo built for these tests (the release binary under `cargo test --release`).
pub fn meshtui_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_meshtui"))
}
