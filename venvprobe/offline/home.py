"""``check-home``: will this Python home work for the server that embeds it?

Checks, without starting any server:

* what PATH is (a venv root, or something inside one: its interpreter,
  ``lib/pythonX.Y``, ``site-packages``) and the value that should be used;
* which Python made the venv (``pyvenv.cfg``), whether that base still
  exists, and whether it is the installation the server embeds;
* whether the server's user can traverse every directory on the way and
  read ``pyvenv.cfg`` and site-packages (mode bits, confirmed as the user);
* what mod_wsgi 4.x-6.x (``wsgi_interp.c``; 6.x sets the same values through
  ``PyConfig``) or uWSGI will do with it, and the
  resulting ``sys.prefix`` / ``sys.path``, predicted by running the
  embedding installation's interpreter the same way, as that user
  (:mod:`venvprobe.offline.predict`).

Findings go through one sink as ``check-home``; what the path is, is
:mod:`venvprobe.offline.homepath`; the scan for packages that break in
sub-interpreters is :mod:`venvprobe.offline.subinterp`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Tuple

from venvprobe.collect.interpreter import parse_pyvenv_cfg
from venvprobe.offline.access import AccessResult, User, check_access, confirm_as_user
from venvprobe.offline.embed import Embedder
from venvprobe.offline.homepath import classify, find_venv_root, kind_finding, major_minor, site_packages_dirs, venv_version
from venvprobe.offline.predict import Prediction, predict
from venvprobe.offline.subinterp import SUBINTERPRETER_UNSAFE, subinterpreter_unsafe
from venvprobe.rules.registry import Findings


@dataclass
class HomeCheck:
    """The result of :func:`check_home`: facts, findings and the prediction."""

    given: str
    kind: str
    root: Optional[str] = None  # the venv root the given path belongs to
    suggested: Optional[str] = None  # the value to configure instead, when the given one is wrong
    pyvenv: Optional[dict] = None
    embedder: Optional[Embedder] = None
    user: Optional[User] = None
    access: Dict[str, AccessResult] = field(default_factory=dict)
    action: str = ""  # what the server does with the home
    prediction: Optional[Prediction] = None
    findings: List[dict] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

    def facts(self) -> List[Tuple[str, Any]]:
        """Key/value rows for the rendered report."""
        cfg = self.pyvenv or {}
        rows: List[Tuple[str, Any]] = [
            ("given", self.given),
            ("what it is", self.kind),
            ("venv root", self.root),
        ]
        if self.suggested:
            rows.append(("use instead", self.suggested))
        if cfg:
            rows += [("pyvenv.cfg home", cfg.get("home")), ("pyvenv.cfg version", cfg.get("version")),
                     ("venv creator", f"{cfg.get('creator')} {cfg.get('creator_version') or ''}".strip()),
                     ("include-system-site-packages", cfg.get("include_system_site_packages")),
                     ("base installation exists", cfg.get("home_exists"))]
        if self.embedder:
            e = self.embedder
            rows += [("embedding Python", e.source), ("embedding version", e.version),
                     ("embedding installation", e.prefix), ("interpreter used to predict", e.executable)]
        if self.user:
            rows.append(("checked as user", f"{self.user.name} (uid {self.user.uid}, gid {self.user.gid}, "
                                            f"groups {','.join(str(g) for g in sorted(self.user.groups))})"))
        for label, res in self.access.items():
            state = "ok" if res.ok else f"NO: {res.reason}"
            if res.confirmed is not None:
                state += " (confirmed as the user)" if res.confirmed == res.ok else " (kernel disagrees with mode bits)"
            rows.append((f"access: {label}", f"{res.path}: {state}"))
        if self.action:
            rows.append(("server will", self.action))
        p = self.prediction
        if p:
            rows.append(("prediction ran", f"{p.executable} as argv[0]={p.argv0}"
                         + (f", PYTHONHOME={p.env_home}" if p.env_home else "") + f", as {p.as_user}"))
            if p.ok:
                v = p.values
                rows += [("predicted sys.prefix", v.get("prefix")), ("predicted sys.base_prefix", v.get("base_prefix")),
                         ("predicted stdlib", v.get("stdlib")), ("predicted sys.path", v.get("path"))]
            else:
                rows.append(("predicted start-up", f"FAILS: {p.fatal or ''} {p.exception or ''}".strip()))
                pc = p.path_config or {}
                vals = pc.get("values") or {}
                rows += [("  PYTHONHOME seen", vals.get("PYTHONHOME")), ("  sys.prefix tried", vals.get("sys.prefix")),
                         ("  stdlib dir tried", vals.get("stdlib dir"))]
            if p.note:
                rows.append(("prediction note", p.note))
        for note in self.notes:
            rows.append(("note", note))
        return rows

    def as_dict(self) -> dict:
        return {
            "given": self.given, "kind": self.kind, "root": self.root, "suggested": self.suggested,
            "pyvenv_cfg": self.pyvenv, "embedder": self.embedder.as_dict() if self.embedder else None,
            "user": {"name": self.user.name, "uid": self.user.uid, "gid": self.user.gid,
                     "groups": sorted(self.user.groups)} if self.user else None,
            "access": {k: v.as_dict() for k, v in self.access.items()}, "action": self.action,
            "prediction": self.prediction.as_dict() if self.prediction else None, "notes": list(self.notes),
        }


def _labels(server: str) -> Tuple[str, str]:
    """(setting name, server name) for messages."""
    return ("home", "uWSGI") if server == "uwsgi" else ("python-home", "mod_wsgi")


def _confirm(check: "HomeCheck", user: User) -> None:
    """Re-check computed access results as the user; the kernel wins."""
    wanted: List[Tuple[str, str]] = []
    for res in check.access.values():
        if res.exists:
            modes = getattr(res, "_want", "r")
            for m in modes:
                wanted.append((res.path, m))
    answers = confirm_as_user(wanted, user)
    if answers is None:
        return
    for res in check.access.values():
        modes = getattr(res, "_want", "r")
        got = [answers.get((res.path, m)) for m in modes]
        if any(g is None for g in got):
            continue
        ok = all(got)
        res.confirmed = ok
        if ok != res.ok:
            check.notes.append(f"{res.path}: mode bits say {'allowed' if res.ok else 'denied'} but the kernel says "
                               f"{'allowed' if ok else 'denied'} for {user.name} (ACL, mount option or LSM)")
            res.ok = ok
            if not ok and not res.reason:
                res.reason = f"{user.name} is denied access by the kernel"


def _access(check: "HomeCheck", label: str, path: str, user: User, want: str) -> AccessResult:
    res = check_access(path, user, want)
    res._want = want  # type: ignore[attr-defined]  # remembered for confirmation
    check.access[label] = res
    return res


def check_home(path: str, *, embedder: Optional[Embedder], user: User, server: str = "mod_wsgi",
               do_predict: bool = True, confirm: bool = True, context: str = "",
               extra_env: Optional[Dict[str, str]] = None) -> HomeCheck:
    """Check the Python home *path* for *server* run as *user*, embedding *embedder*.

    *context* prefixes every message (e.g. "WSGIDaemonProcess app: ").
    Findings use the rule codes shared with the live report (:mod:`venvprobe.rules`).
    """
    setting, server_name = _labels(server)
    given = os.path.abspath(os.path.expanduser(path))
    kind, root, suggested = classify(given)
    check = HomeCheck(given=given, kind=kind, root=root, suggested=suggested, embedder=embedder, user=user)
    sink = Findings("uwsgi" if server == "uwsgi" else "mod_wsgi", "check-home", prefix=context, data={"home": given})
    check.findings = sink.items

    # -- what the path is --------------------------------------------------------
    wrong = kind_finding(kind, setting, given, root, suggested)
    if wrong:
        sink.add(*wrong)

    # -- which Python made the venv, and does it match the embedder -----------------------
    venv = root if kind in ("venv", "interpreter-in-venv", "inside-venv") else None
    xy_embed = embedder.major_minor if embedder else None
    if venv:
        cfg = parse_pyvenv_cfg(os.path.join(venv, "pyvenv.cfg"))
        check.pyvenv = cfg
        if cfg and cfg.get("readable"):
            home, version = cfg.get("home"), cfg.get("version")
            if home and cfg.get("home_exists") is False:
                sink.add("venv-base-missing", f"the Python that made {venv} ({home}) no longer exists",
                         [f"{cfg.get('path')}: home = {home}"])
            made_xy = major_minor(version) or venv_version(venv)
            if embedder and xy_embed and made_xy and made_xy != xy_embed:
                sink.add("venv-python-mismatch",
                         f"{venv} was made by Python {version or made_xy} ({home}) but {server_name} embeds Python "
                         f"{embedder.version or xy_embed} ({embedder.prefix or embedder.libpython}): its site-packages "
                         f"(lib/python{made_xy}) will not be on sys.path",
                         [f"{cfg.get('path')}: home = {home}, version = {version}", f"embedding: {embedder.source}"])
            elif embedder and home and embedder.prefix and not embedder.owns_home(home):
                sink.add("venv-python-mismatch",
                         f"{venv} was made by the Python in {home} (version {version}), a different installation from the "
                         f"Python {embedder.version} in {embedder.prefix} that {server_name} embeds (same {xy_embed} is not enough)",
                         [f"{cfg.get('path')}: home = {home}, version = {version}", f"embedding: {embedder.source}",
                          f"embedding installation: {embedder.prefix} ({embedder.executable})"])
    # -- can the server user get there ------------------------------------------------------
    target = venv or (given if kind in ("installation", "not-a-venv") else None)
    if target:
        reach = _access(check, "home", target, user, "x")
        if venv:
            cfg_path = os.path.join(venv, "pyvenv.cfg")
            cfg_res = _access(check, "pyvenv.cfg", cfg_path, user, "r") if reach.ok else None
            xy = major_minor((check.pyvenv or {}).get("version")) or xy_embed
            sps = site_packages_dirs(venv, xy) or site_packages_dirs(venv)
            for i, sp in enumerate(sps[:2]):
                if reach.ok:
                    _access(check, "site-packages" if i == 0 else f"site-packages {i + 1}", sp, user, "rx")
            cfg = check.pyvenv or {}
            base_home = cfg.get("home")
            if base_home and cfg.get("home_exists") and made_xy_for(cfg):
                stdlib = os.path.join(os.path.dirname(os.path.normpath(base_home)), "lib", f"python{made_xy_for(cfg)}")
                if os.path.isdir(stdlib):
                    _access(check, "base stdlib", stdlib, user, "rx")
            if confirm and user.uid != os.geteuid():
                _confirm(check, user)
            if not reach.ok:
                sink.add("python-home-inaccessible", f"{user.name} cannot reach {setting}={venv}: {reach.reason}",
                         [f"blocked at {reach.blocked_at}"] + ([f"confirmed by running test -x as {user.name}"]
                                                               if reach.confirmed is False else []))
            elif cfg_res is not None and not cfg_res.ok:
                sink.add("pyvenv-cfg-unreadable", f"{user.name} cannot read {cfg_path}: {cfg_res.reason}; "
                         + (f"mod_wsgi will call Py_SetPythonHome({venv}) and start-up fails with "
                            "No module named 'encodings'" if server != "uwsgi" else
                            "the venv's settings (home, include-system-site-packages) cannot be read"),
                         [f"{cfg_path}: {cfg_res.reason}"])
            else:
                for label, res in check.access.items():
                    if label.startswith("site-packages") and not res.ok:
                        sink.add("sys-path-unreadable", f"{user.name} cannot read the venv's {res.path}: {res.reason}",
                                 [res.reason])
                base_res = check.access.get("base stdlib")
                if base_res is not None and not base_res.ok:
                    base_root = os.path.dirname(os.path.normpath(cfg.get("home") or ""))
                    note = (f"{user.name} cannot read the base installation's standard library {base_res.path} "
                            f"({base_res.reason}): the interpreter falls back to its compiled-in prefix")
                    mism = [f for f in check.findings if f["code"] == "venv-python-mismatch"]
                    if mism:
                        mism[0]["evidence"].append(note)
                    else:
                        sink.add("python-base-unreadable",
                                 f"{user.name} cannot read {base_root}, the Python installation {venv} was made from "
                                 f"(blocked at {base_res.blocked_at}: {base_res.reason}): Python cannot import "
                                 f"'encodings' and {server_name} cannot start it",
                                 [f"{cfg_path}: home = {cfg.get('home')}", note],
                                 data={"base": base_root, "blocked_at": base_res.blocked_at})
        elif confirm and user.uid != os.geteuid():
            _confirm(check, user)
            if not reach.ok:
                sink.add("python-home-inaccessible", f"{user.name} cannot reach {setting}={target}: {reach.reason}",
                         [f"blocked at {reach.blocked_at}"])
        elif not reach.ok:
            sink.add("python-home-inaccessible", f"{user.name} cannot reach {setting}={target}: {reach.reason}",
                     [f"blocked at {reach.blocked_at}"])

    # -- what the server does with it --------------------------------------------------------
    cfg_visible = bool(venv) and check.access.get("pyvenv.cfg") is not None and check.access["pyvenv.cfg"].ok \
        and check.access["home"].ok
    if kind in ("venv", "interpreter-in-venv", "inside-venv") and given != venv:
        cfg_visible = os.path.isfile(os.path.join(given, "pyvenv.cfg"))  # it looks in the given dir, not the root
    if server == "uwsgi":
        exists = os.path.isfile(os.path.join(given, "pyvenv.cfg"))
        check.action = (f"PEP 405 venv detected: program name {given}/bin/python, no Python home" if exists else
                        f"Py_SetPythonHome({given}) and program name {given}/bin/python")
        cfg_visible = exists
    else:
        # mod_wsgi 4.x calls Py_SetProgramName / Py_SetPythonHome; 5.x and 6.x set the same two
        # values through PyConfig (program_name / home): same choice, same effect.
        check.action = (f"program name {given}/bin/python (Py_SetProgramName in mod_wsgi 4.x, PyConfig.program_name "
                        f"in 5+; pyvenv.cfg readable by {user.name})" if cfg_visible
                        else f"Python home {given} (Py_SetPythonHome in mod_wsgi 4.x, PyConfig.home in 5+; no "
                        f"pyvenv.cfg readable by {user.name} in {given})")
    if do_predict and embedder is not None:
        check.prediction = predict(given, embedder, user, server=server, pyvenv_visible=cfg_visible, extra_env=extra_env)
        _judge_prediction(check, sink, setting, server_name)
    elif embedder is None:
        check.notes.append("no embedding Python known: give --python or --mod-wsgi to compare and predict")
    return check


def made_xy_for(cfg: dict) -> Optional[str]:
    """X.Y of the Python that made the venv described by parsed pyvenv.cfg *cfg*."""
    return major_minor(cfg.get("version")) if cfg else None


def _judge_prediction(check: HomeCheck, sink: Findings, setting: str, server_name: str) -> None:
    p = check.prediction
    if p is None or not p.executable:
        return
    errors = [f for f in check.findings if f["severity"] == "error"]
    if not p.ok:
        vals = (p.path_config or {}).get("values") or {}
        evidence = [f"Fatal Python error: {p.fatal}" if p.fatal else
                    "start-up failed" + (f": {p.note}" if p.note else "")]
        if p.exception:
            evidence.append(p.exception)
        for key in ("PYTHONHOME", "program name", "sys.prefix", "stdlib dir"):
            if vals.get(key):
                evidence.append(f"{key} = {vals[key]}")
        if errors:
            errors[0]["evidence"].extend(f"predicted: {e}" for e in evidence)
        else:
            # Never "...: None": the interpreter may die without a Fatal Python error line.
            cause = p.exception or p.fatal or p.note or "it exited with an error"
            sink.add("python-startup-fails", f"{server_name} cannot start Python with {setting}={check.given}: "
                     f"{cause}", evidence + ([f"note: {n}" for n in check.notes]))
        return
    v = p.values
    if check.root and check.kind == "venv":
        venv_sites = {os.path.realpath(s) for s in site_packages_dirs(check.root)}
        on_path = {os.path.realpath(x) for x in v.get("path") or []}
        mism = [f for f in check.findings if f["code"] == "venv-python-mismatch"]
        if venv_sites and not venv_sites & on_path:
            msg = (f"predicted sys.path has none of the venv's site-packages ({', '.join(sorted(venv_sites))}): "
                   f"packages installed in {check.root} will not import")
            if mism:
                mism[0]["evidence"].append(msg)
            elif not errors:
                sink.add("python-startup-fails", msg, [f"predicted sys.path = {v.get('path')}"], severity="error")
        if mism:
            mism[0]["evidence"].append(f"predicted sys.base_prefix = {v.get('base_prefix')}, stdlib = {v.get('stdlib')}, "
                                       f"Python {v.get('version')}")


__all__ = ["HomeCheck", "Prediction", "SUBINTERPRETER_UNSAFE", "check_home", "classify", "find_venv_root",
           "predict", "site_packages_dirs", "subinterpreter_unsafe"]
