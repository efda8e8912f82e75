"""``check-apache``: read an Apache configuration and resolve every mounted WSGI app.

The reader follows ``Include``/``IncludeOptional`` (globs, directories,
ServerRoot-relative paths), ``Define``/``${VAR}`` (also from Debian's
``/etc/apache2/envvars``) and evaluates ``<IfModule>``/``<IfDefine>``/
``<IfFile>`` at parse time the way httpd does (modules loaded so far).

For every ``WSGIScriptAlias``/``WSGIScriptAliasMatch`` it then works out,
like mod_wsgi 4.x: daemon or embedded mode, which process group
(``process-group=`` option, else the last ``WSGIProcessGroup`` from the
server, virtual host, ``<Directory>`` of the script and ``<Location>`` of
the URL, in Apache's merge order), which application group (``%{GLOBAL}`` =
main interpreter, default = one sub-interpreter per ``host[:port]|/url``),
the user, python-home (the group's, else the server-wide ``WSGIPythonHome``)
and python-path (the group's only: mod_wsgi ignores ``WSGIPythonPath`` in
daemon processes).  The findings use the codes of :mod:`venvprobe.rules`.

This module is the public face of the engine in :mod:`venvprobe.offline.apache`: ``reader`` (parse),
``model``, ``resolve`` and ``checks`` (findings).
"""

from venvprobe.offline.apache.checks import MOD_WSGI6_DIRECTIVES, analyse, unknown_directives
from venvprobe.offline.apache.model import GLOBAL, App, ApacheConfig, DaemonGroup, InterpreterOptions, VHost, parse_options
from venvprobe.offline.apache.reader import (DEFAULT_CONFIGS, DEFAULT_ENVVARS, DEFAULT_USER, ConfigError, Node, Reader,
                                             default_apache_user, read_envvars, split_args)
from venvprobe.offline.apache.resolve import GLOBAL_ONLY, INTERPRETER_OPTIONS, load

__all__ = ["App", "ApacheConfig", "ConfigError", "DaemonGroup", "DEFAULT_CONFIGS", "DEFAULT_ENVVARS", "DEFAULT_USER",
           "GLOBAL", "GLOBAL_ONLY", "INTERPRETER_OPTIONS", "InterpreterOptions", "MOD_WSGI6_DIRECTIVES", "Node", "Reader",
           "VHost", "analyse", "default_apache_user", "load", "parse_options", "read_envvars", "split_args",
           "unknown_directives"]
