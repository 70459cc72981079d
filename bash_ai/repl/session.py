"""The interactive loop: type bash (completed by the model) or ask in English with ``#``/``?``.

Every command runs only after the same confirmation as ``bash-ai --run``. Model work happens on
the worker thread; Ctrl-C while it works cancels it (the engine stream's cancel Event) and returns
to the prompt.
"""

from __future__ import annotations

import contextlib
import shlex
import sys
from typing import TYPE_CHECKING, Any

from bash_ai.errors import Aborted, BashAIError
from bash_ai.repl.worker import Job, ModelWorker

if TYPE_CHECKING:
    from bash_ai.answer import Candidate
    from bash_ai.engine.engine import Engine

HELP = """\
Type bash: the model suggests the rest in grey (→ accepts it, Tab opens a menu of candidates);
Enter runs the line after confirmation.
  # request / ? request   ask in plain English; the answer is offered to run
  :run CMD                run CMD after confirmation
  :explain [CMD]          describe CMD (default: the last command) and its danger flags
  :copy                   copy the last command to the clipboard
  :model NAME             switch to another installed model (or a directory)
  :help                   this text
  :quit, Ctrl-D           leave
Ctrl-C stops the model (or clears the line); nothing runs unless you answer "e"."""

PROMPT = "bash-ai $ "


class Repl:
    def __init__(self, engine: Engine, model_name: str, temperature: float | None = None) -> None:
        self.engine = engine
        self.model_name = model_name
        self.temperature = temperature
        self.last_command: str | None = None
        self._shell: Any = None  # bash_ai.repl.shell.Shell, started on the first line that runs
        self.worker = ModelWorker()
        self._seed = 0

    # --- output -------------------------------------------------------------------------------

    def say(self, text: str, style: str = "") -> None:
        """A REPL message on stderr (stdout is left to the commands it runs); model text in it has
        its control characters made visible."""
        from bash_ai.safety.control import visible
        from bash_ai.term.ui import console, styled

        text = visible(text)

        if styled() and style:
            from rich.markup import escape

            console().print(f"[{style}]{escape(text)}[/]", markup=True, highlight=False)
        else:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()

    # --- model work off the UI thread --------------------------------------------------------

    def wait(self, job: Job, progress: Any) -> Any:
        """The job's result, under a spinner (a label or a ``Progress``); Ctrl-C cancels it."""
        from bash_ai.term.render import Progress

        try:
            with progress if isinstance(progress, Progress) else Progress(progress):
                return job.result()
        except KeyboardInterrupt:
            job.cancel.set()
            with contextlib.suppress(Exception):  # the cancelled job's outcome no longer matters
                job.future.result(timeout=5)
            raise Aborted("cancelled") from None

    def ask(self, request: str) -> None:
        from bash_ai.answer import (
            DEFAULT_TEMPERATURE,
            UNSURE_ALTERNATIVES,
            alternatives_beside,
            answer,
            default_max_tokens,
            wants_script,
        )
        from bash_ai.api import decode_config, sampling_params
        from bash_ai.term.render import Progress

        self._seed += 1
        max_tokens = default_max_tokens(request)
        # As the CLI answers: beam search over the retrieval prompt for a command; sampled (seeded)
        # for a script or when a temperature asks for it.
        params = None
        if self.temperature is not None or wants_script(request):
            temperature = DEFAULT_TEMPERATURE if self.temperature is None else self.temperature
            params = sampling_params(temperature, self._seed, max_tokens)
        decode = decode_config(max_tokens)
        engine = self.engine
        progress = Progress("thinking")  # also warns when the request is cut to fit the context
        # Beam search: the next answers too, shown only if the model is unsure of the first (as the CLI).
        n = 1 if params is not None else 1 + UNSURE_ALTERNATIVES
        job = self.worker.submit(
            lambda cancel: answer(engine, request, n, params, cancel=cancel, on_event=progress, decode=decode),
            key="answer",
        )
        results = self.wait(job, progress)
        if not results:
            raise Aborted("cancelled")
        if beside := alternatives_beside(results):
            from bash_ai.term import render

            render.show_alternatives(beside)
        self.offer(results[0])

    def describe(self, command: str) -> str:
        from bash_ai.answer import explain

        engine = self.engine
        job = self.worker.submit(lambda cancel: explain(engine, command, cancel=cancel), key="explain")
        return str(self.wait(job, "explaining").to_text().rstrip("\n"))

    # --- running ------------------------------------------------------------------------------

    def offer(self, candidate: Candidate) -> None:
        """Confirm, then run; remember the command either way (for :copy and :explain)."""
        from bash_ai.term.confirm import confirm_and_run

        self.last_command = candidate.text
        status = confirm_and_run(candidate, self.describe, runner=self.shell_run)
        if status:
            self.say(f"[exit {status}]", "yellow")

    def shell_run(self, text: str) -> int:
        """Run in the session's one bash (variables, functions, aliases, cd persist)."""
        from bash_ai.repl.shell import Shell, ShellExited

        if self._shell is None or not self._shell.alive:
            self._shell = Shell()
        try:
            return int(self._shell.run(text))
        except ShellExited:
            self._shell.close()
            self._shell = None
            self.say("the shell exited; the next line starts a new one", "yellow")
            return 0

    def run_line(self, line: str) -> None:
        from bash_ai.answer import check

        words = _split(line)
        if words and words[0] == "cd" and len(words) <= 2:  # moving around needs no confirmation
            status = self.shell_run(line)
            if status:
                self.say(f"[exit {status}]", "yellow")
            return
        self.offer(check(line))

    # --- meta-commands ------------------------------------------------------------------------

    def explain(self, command: str | None) -> None:
        from bash_ai.answer import check
        from bash_ai.term import render

        command = command or self.last_command
        if not command:
            self.say("nothing to explain yet: :explain CMD", "yellow")
            return
        self.say(self.describe(command))
        checked = check(command)
        render.show_notes(checked, "the command")
        if not checked.danger:
            self.say("no danger flags", "green")

    def copy(self) -> None:
        from bash_ai.repl.clipboard import copy

        if not self.last_command:
            self.say("nothing to copy yet", "yellow")
            return
        self.say(f"copied via {copy(self.last_command)}", "green")

    def switch_model(self, name: str) -> None:
        from bash_ai.api import load_engine

        if not name:
            self.say(f"model: {self.model_name} (:model NAME to switch)")
            return
        job = self.worker.submit(lambda cancel: load_engine(name), key="model")
        self.engine = self.wait(job, f"loading {name}")
        self.model_name = self.engine.name
        self.say(f"model: {self.model_name} ({self.engine.model_dir})", "green")

    def handle(self, line: str) -> bool:
        """Act on one submitted line; False means quit."""
        text = line.strip()
        if not text:
            return True
        if text[0] in "#?":
            self.ask(text[1:])
            return True
        if text.startswith(":"):
            name, _, arg = text.partition(" ")
            arg = arg.strip()
            if name in (":quit", ":q", ":exit"):
                return False
            if name == ":help":
                self.say(HELP)
            elif name == ":run":
                if arg:
                    self.run_line(arg)
                else:
                    self.say(":run CMD", "yellow")
            elif name == ":copy":
                self.copy()
            elif name == ":explain":
                self.explain(arg or None)
            elif name == ":model":
                self.switch_model(arg)
            else:
                self.say(f"unknown command {name}; :help lists them", "yellow")
            return True
        self.run_line(text)
        return True

    # --- the loop -----------------------------------------------------------------------------

    def session(self) -> Any:
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory
        from prompt_toolkit.lexers import PygmentsLexer
        from pygments.lexers.shell import BashLexer

        from bash_ai.paths import ensure, history_file
        from bash_ai.repl.suggest import ModelAutoSuggest, ModelCompleter

        ensure(history_file().parent)
        suggest = ModelAutoSuggest(self.worker, lambda: self.engine)
        session: PromptSession[str] = PromptSession(
            history=FileHistory(str(history_file())),
            lexer=PygmentsLexer(BashLexer),
            auto_suggest=suggest,
            completer=ModelCompleter(self.worker, lambda: self.engine),
            complete_while_typing=False,
            bottom_toolbar=lambda: f" {self.model_name} | → accept | Tab candidates | # ask | :help ",
        )
        session.default_buffer.on_text_changed += lambda buffer: suggest.cancel_stale(buffer.text)
        return session

    def run(self) -> int:
        session = self.session()
        self.say("bash-ai REPL: type bash, or # to ask in English. :help for more, Ctrl-D to leave.", "dim")
        try:
            while True:
                try:
                    line = session.prompt(PROMPT)
                except KeyboardInterrupt:
                    continue
                except EOFError:
                    break
                finally:
                    self.worker.cancel_all()
                try:
                    if not self.handle(line):
                        break
                except Aborted as exc:
                    self.say(str(exc), "dim")
                except BashAIError as exc:
                    self.say(f"error: {exc}", "red")
                except KeyboardInterrupt:
                    self.say("cancelled", "dim")
        finally:
            self.worker.close()
            if self._shell is not None:
                self._shell.close()
        return 0


def _split(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError:
        return []
