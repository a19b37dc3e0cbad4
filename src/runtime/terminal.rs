//! Owns the terminal: raw mode and the alternate screen on entry, and restored on every way
//! out (normal exit, error, panic, SIGTERM, SIGHUP).

use std::io::{self, BufWriter, Stdout, Write};
use std::sync::Once;

use anyhow::{Context, Result};
use crossterm::{cursor, execute, terminal};
use ratatui::backend::CrosstermBackend;
use ratatui::{Frame, Terminal};
use tokio::signal::unix::{signal, Signal, SignalKind};

type Backend = CrosstermBackend<BufWriter<Stdout>>;

pub struct TerminalGuard {
    terminal: Terminal<Backend>,
    restored: bool,
}

static PANIC_HOOK: Once = Once::new();

/// Puts the terminal back as the shell expects it; safe to call more than once.
fn restore_terminal() {
    let _ = terminal::disable_raw_mode();
    let _ = execute!(io::stdout(), terminal::LeaveAlternateScreen, cursor::Show);
}

impl TerminalGuard {
    pub fn enter() -> Result<Self> {
        PANIC_HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore_terminal();
                previous(info);
            }));
        });
        // The theme already honours NO_COLOR (no colours, modifiers only); crossterm's own
        // handling would also emit resets that cancel the bold/reverse marking the selection.
        crossterm::style::force_color_output(true);
        terminal::enable_raw_mode().context("enabling raw mode (is stdout a terminal?)")?;
        // Clearing here rather than through ratatui: its clear asks the terminal for the cursor
        // position and waits for an answer a slow SSH link may never deliver.
        let mut stdout = io::stdout();
        let entered = execute!(
            stdout,
            terminal::EnterAlternateScreen,
            cursor::Hide,
            terminal::Clear(terminal::ClearType::All)
        );
        if let Err(error) = entered {
            restore_terminal();
            return Err(error).context("entering the alternate screen");
        }
        let backend = CrosstermBackend::new(BufWriter::with_capacity(64 * 1024, io::stdout()));
        match Terminal::new(backend) {
            Ok(terminal) => Ok(TerminalGuard {
                terminal,
                restored: false,
            }),
            Err(error) => {
                restore_terminal();
                Err(error).context("measuring the terminal")
            }
        }
    }

    pub fn size(&self) -> Result<(u16, u16)> {
        let size = self.terminal.size().context("measuring the terminal")?;
        Ok((size.width, size.height))
    }

    pub fn draw(&mut self, render: impl FnOnce(&mut Frame)) -> Result<()> {
        self.terminal
            .draw(render)
            .context("drawing to the terminal")?;
        Ok(())
    }

    pub fn restore(&mut self) {
        if !self.restored {
            let _ = self.terminal.backend_mut().flush();
            restore_terminal();
            self.restored = true;
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        self.restore();
    }
}

/// SIGTERM and SIGHUP end the session cleanly (the terminal is restored on the way out).
pub struct Signals {
    terminate: Signal,
    hangup: Signal,
}

impl Signals {
    pub fn new() -> io::Result<Self> {
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }

    pub async fn next(&mut self) {
        tokio::select! {
            _ = self.terminate.recv() => {}
            _ = self.hangup.recv() => {}
        }
    }
}
