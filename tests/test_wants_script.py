"""Script or command? A table of requests (issue 17: "make script.sh executable" was a script)."""

from __future__ import annotations

import pytest

from bash_ai.answer import wants_script

SCRIPTS = [
    "write a script that counts lines in every python file",
    "create a bash script to back up my home directory",
    "make a script that prints the date every minute",
    "generate a shell script which pings a list of hosts",
    "give me a script for rotating logs",
    "I need a script to rename photos by date",
    "I want a bash script that checks disk space and emails me",
    "build a deployment script for my web app",
    "script to download every url in urls.txt",
    "a script that watches a folder and compresses new files",
    "bash script that monitors cpu usage",
    "shell script for installing docker",
    "write a backup script",
    "create backup script",
    "write me a script which greps errors from all logs",
    "a script to clean up old docker images",
    "generate a script that converts every png to jpg",
    "create a script which sets up a python virtualenv",
    "need a script to sync two directories",
    "write a script with a shebang that prints hello",
    "make a shell script that asks for a name and greets the user",
    "create a script named cleanup.sh that deletes tmp files",
    "write a script to parse access.log and count status codes",
    "build a script that restarts nginx if it is down",
    "give me a bash script to archive the logs directory each night",
]

COMMANDS = [
    "make script.sh executable",
    "make the deploy script executable",
    "chmod the install script so everyone can run it",
    "run script.sh every hour",
    "run the backup script",
    "execute ./build.sh with bash",
    "find all scripts in /usr/local/bin",
    "list the scripts in ~/bin",
    "count the lines in script.sh",
    "show the permissions of script.sh",
    "delete the old script",
    "copy myscript.sh to /tmp",
    "rename script.sh to deploy.sh",
    "search for TODO in ~/scripts/",
    "edit the script with vim",
    "kill the script that is still running",
    "debug script.sh with bash -x",
    "check the syntax of run.sh",
    "lint the script with shellcheck",
    "source the env script",
    "schedule the backup script to run daily",
    "print the first line of script.sh",
    "compress the scripts directory",
    "make a backup of the script",
    "list files sorted by size",
    "show disk usage",
    "count the words in essay.txt",
    "create a directory named scripts",
    "write the output of script.sh to out.txt",
    "make ~/scripts/run.sh runnable",
]


@pytest.mark.parametrize("request_text", SCRIPTS)
def test_script_requests(request_text: str) -> None:
    assert wants_script(request_text)


@pytest.mark.parametrize("request_text", COMMANDS)
def test_command_requests(request_text: str) -> None:
    assert not wants_script(request_text)


def test_the_table_is_big_enough() -> None:
    assert len(SCRIPTS) + len(COMMANDS) >= 50
