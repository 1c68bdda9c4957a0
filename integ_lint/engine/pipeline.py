"""The pipeline: discover -> per-file phase -> project index -> project rules ->
findings -> suppressions -> report. The CLI and :mod:`integ_lint.api` both call
:func:`run`."""

from __future__ import annotations

import contextlib
import gc
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from integ_lint.config.loader import Config, ConfigError
from integ_lint.config.roles import LIBRARY
from integ_lint.engine.cache import (
    MEMO_COMPARED_FILES,
    CacheError,
    FileCache,
    PickledFacts,
    ProjectMemo,
    RuleOutcome,
    new_run,
    project_memo_key,
)
from integ_lint.engine.discovery import (
    SourceFile,
    discover_files,
    project_files,
    project_layout,
)
from integ_lint.engine.executor import (
    ExecutionStats,
    analyze_files,
    fact_unpickler,
    load_deferred_facts,
)
from integ_lint.engine.layout_memo import save_unclaimed_memos
from integ_lint.engine.members import split_by_member
from integ_lint.engine.phase_memo import (
    ChangedFacts,
    GiveUp,
    Plan,
    assemble,
    attach_reducers,
    kept_summaries,
    plan,
    rule_name,
)
from integ_lint.engine.registry import load_registry
from integ_lint.engine.results import FileResult
from integ_lint.engine.selection import Selection, select_rules
from integ_lint.files.globs import matches_any
from integ_lint.files.paths import relative_path
from integ_lint.files.source import recording_reads
from integ_lint.findings.fingerprint import assign_fingerprints
from integ_lint.findings.model import (
    Finding,
    Notification,
    NotificationKind,
    Report,
    RunStats,
    Severity,
)
from integ_lint.findings.suppressions import (
    UNUSED_CODE,
    SuppressionComment,
    apply_suppressions,
    unused_suppressions,
)
from integ_lint.model.project import (
    FrameTrace,
    KeptSummary,
    ProjectIndex,
    ReadRecorder,
    Unpickle,
)

if TYPE_CHECKING:
    from integ_lint.engine.manifest import CollectorRef, ProjectRuleRef
    from integ_lint.engine.shards import ShardReader, ShardWriter
    from integ_lint.rule import FactCollector


@dataclass
class RunOptions:
    """How to run, beyond what the config says."""

    jobs: int | None = None
    # Read and write the per-file cache (integ_lint.engine.cache); --no-cache turns it off.
    use_cache: bool = True
    # Only report findings in these project-relative paths (pre-commit, changed files);
    # the whole project is still indexed for project rules.
    report_paths: set[str] | None = None
    # Hook to filter findings after suppressions (baselines, changed lines).
    post_filters: list[Callable[[list[Finding], Report], list[Finding]]] = field(
        default_factory=list
    )
    # progress(done, total) as files complete (integ_lint.cli.progress draws the bar).
    progress: Callable[[int, int], None] | None = None
    # When every given path is a file inside a configured project (pre-commit), report
    # only on those files but let project rules see the facts of the whole project.
    project_context: bool = True
    # Scan folders holding their own pyproject.toml as projects of their own.
    include_subprojects: bool = True
    # Extra fact collectors run on every file (the audit's site counts); the run's
    # ProjectIndex (report.project) is then built even when no project rule runs.
    collectors: list[type[FactCollector]] = field(default_factory=list)
    # The caller reads report.project (the index), as API callers and the views do:
    # never reuse the project phase's memo (integ_lint.engine.cache.ProjectMemo), which
    # skips building it. Only ``check``, which reads findings alone, turns this off.
    keep_project: bool = True
    # check --shard / --facts-in (integ_lint.engine.shards): analyse only this runner's share
    # of the files and stop before the project phase, or take every file's result from
    # the shards instead of analysing it.
    shards: ShardWriter | ShardReader | None = None


def index_project(
    paths: Sequence[Path],
    config: Config,
    collectors: Sequence[CollectorRef],
    jobs: int = 1,
    subprojects: list[Path] | None = None,
    use_cache: bool = False,
) -> tuple[ProjectIndex, list[str]]:
    """Run only ``collectors`` over ``paths`` (the ``imports`` and ``graph`` views need
    no rule) and index the result; files that cannot be read or parsed are described
    in the returned notes, one line each. Folders below ``paths`` holding their own
    ``pyproject.toml`` are left out and listed in ``subprojects``
    (:func:`integ_lint.engine.members.each_project` builds them as projects of their own).
    ``use_cache``: read and write the per-file cache, as ``check`` does."""
    files = discover_files(paths, config, subprojects, use_cache=use_cache)
    given = {f.relpath for f in files}
    report_paths: set[str] | None = None
    if paths and config.config_file is not None:
        # The whole project behind the view: imports of modules outside ``paths``
        # still resolve to the project's own modules.
        everything = project_files(config)
        if not given.issuperset(f.relpath for f in everything):
            report_paths = given
            files = [*files, *(f for f in everything if f.relpath not in given)]
    execution = ExecutionStats()
    results = analyze_files(
        files,
        config,
        [],
        collectors,
        jobs=jobs,
        use_cache=use_cache,
        stats=execution,
        defer_facts=True,
    )
    save_unclaimed_memos()  # as in a check: the per-file phase has claimed the folder
    # The cached facts unpickled without the cyclic collector walking them as they are
    # built (0.25 s of a warm ``graph`` on napari), as the project phase of ``check`` does.
    collecting = gc.isenabled()
    gc.disable()
    try:
        load_deferred_facts(execution, config, collectors)
    finally:
        if collecting:
            gc.enable()
    notes = [n.message for n in execution.notifications]  # the cache's, if any
    notes += [
        f"{n.path}:{n.line or 1}: {n.message}" if n.path else n.message
        for r in results
        if r.relpath in given
        for n in r.notifications
    ]
    notes.extend(project_layout(config).warnings)
    roles = {f.relpath: f.role for f in files}
    index = ProjectIndex.from_results(results, config, roles)
    index.report_paths = report_paths
    return index, notes


def run(paths: Sequence[Path], config: Config, options: RunOptions | None = None) -> Report:
    """Scan ``paths`` of the config's project. Folders below them that hold their own
    ``pyproject.toml`` (monorepo members) are scanned as projects of their own, each
    with its own root, source roots and settings, and merged into the report with
    paths relative to this project's root."""
    options = options or RunOptions()
    subprojects: list[Path] = []
    # Paths inside a member (pre-commit passes files of several members at once) are
    # judged with that member's settings and project, like the members below a folder.
    members: dict[Path, list[Path] | None] = {}
    if options.include_subprojects:
        excluded = config.general.excluded
        paths, members_given = split_by_member(paths, config.root, excluded)
        members.update(members_given)
    if paths or not members:
        report = _run_project(paths, config, options, subprojects)
    else:
        report = _empty_report(config)
    for subproject in subprojects if options.include_subprojects else ():
        members[subproject.resolve()] = None  # the whole member
    for member in sorted(members):
        _merge_subproject(report, member, config, options, members[member])
    kept = report.findings
    for post_filter in options.post_filters:
        kept = post_filter(kept, report)
    report.findings = sorted(kept, key=Finding.sort_key)
    # Post-filters may add to report.suppressed (baselined findings).
    report.suppressed = sorted(report.suppressed, key=Finding.sort_key)
    return report


def _empty_report(config: Config) -> Report:
    """The report of a project none of whose own files were given (only members')."""
    selection = select_rules(config, load_registry())
    return Report(
        root=str(config.root),
        rules=[rule.info() for rule in selection.all],
        config_file=str(config.config_file) if config.config_file else None,
    )


def _merge_subproject(
    report: Report,
    subproject: Path,
    config: Config,
    options: RunOptions,
    member_paths: list[Path] | None = None,
) -> None:
    """Run the sub-project at ``subproject`` with its own configuration (and the
    command line's options) and add its findings to ``report``: over ``member_paths``
    (with the whole member behind them) when given, else the whole member."""
    from integ_lint.config.loader import load_config

    prefix = relative_path(subproject, config.root)
    report_paths = options.report_paths
    if report_paths is not None:
        report_paths = {p[len(prefix) + 1 :] for p in report_paths if p.startswith(prefix + "/")}
        if not report_paths:
            return
    overrides = {
        key: getattr(config.general, key.replace("-", "_"))
        for key, source in config.provenance.items()
        if source == "command line" and hasattr(config.general, key.replace("-", "_"))
    }
    try:
        sub_config = load_config(
            [subproject], None, overrides, extra_sections=load_registry().sections
        )
        sub_options = replace(
            options,
            report_paths=report_paths,
            post_filters=[],
            progress=None,
            collectors=list(options.collectors),
        )
        sub_report = run(member_paths or [subproject], sub_config, sub_options)
    except ConfigError as exc:
        # Its files were not scanned: the run is incomplete (exit 3), as for a folder
        # that cannot be read, never a silent pass.
        # The notification names the member's pyproject.toml already: the error's own
        # leading copy of that path (absolute) would print it twice.
        message = str(exc).removeprefix(f"{subproject / 'pyproject.toml'}: ")
        report.notifications.append(
            Notification(
                kind=NotificationKind.READ_ERROR,
                message=f"{message}; this project's files were not scanned",
                path=f"{prefix}/pyproject.toml",
                level="error",
            )
        )
        return

    def moved(path: str) -> str:
        return f"{prefix}/{path}"

    def move(finding: Finding) -> Finding:
        related = tuple(replace(r, path=moved(r.path)) for r in finding.related)
        return replace(finding, path=moved(finding.path), related=related)

    report.findings.extend(assign_fingerprints(move(f) for f in sub_report.findings))
    report.suppressed.extend(assign_fingerprints(move(f) for f in sub_report.suppressed))
    report.notifications.extend(
        replace(n, path=moved(n.path)) if n.path else n for n in sub_report.notifications
    )
    report.file_hashes.update({moved(p): h for p, h in sub_report.file_hashes.items()})
    known = {r.code for r in report.rules}
    report.rules.extend(r for r in sub_report.rules if r.code not in known)
    stats, sub = report.stats, sub_report.stats
    stats.files_scanned += sub.files_scanned
    stats.files_context += sub.files_context
    stats.lines_scanned += sub.lines_scanned
    stats.files_failed += sub.files_failed
    stats.files_from_cache += sub.files_from_cache
    stats.suppressed += sub.suppressed
    stats.elapsed_seconds += sub.elapsed_seconds  # the members run one after the other


def _run_project(
    paths: Sequence[Path], config: Config, options: RunOptions, subprojects: list[Path]
) -> Report:
    """One project's run, before the post-filters."""
    started = time.perf_counter()
    new_run()
    registry = load_registry()
    selection = select_rules(config, registry)
    for extra in options.collectors:
        if all(c.KEY != extra.KEY for c in selection.collectors):
            selection.collectors.append(extra)
    general = config.general
    unreadable: list[tuple[str, str]] = []  # folders skipped: (relpath, why)
    files = discover_files(paths, config, subprojects, unreadable, use_cache=options.use_cache)
    jobs = options.jobs if options.jobs is not None else general.jobs
    options, files, context_files = _project_context(paths, files, config, selection, options)
    roles = {f.relpath: f.role for f in [*files, *context_files]}
    progress = options.progress
    execution = ExecutionStats()
    context_execution = ExecutionStats()
    analyze = analyze_files
    # Cached facts stay pickled until the project phase needs them (its memo may
    # answer without them); never for shards, the index callers or the audit.
    defer = not (options.keep_project or options.collectors)
    if options.shards is not None:
        analyze = options.shards.analyzer(config, analyze_files)
        defer = False
    results = analyze(
        files,
        config,
        selection.file_rules,
        selection.collectors,
        jobs=jobs or 0,
        progress=progress,
        use_cache=options.use_cache,
        stats=execution,
        defer_facts=defer,
    )
    # The per-file phase has claimed the cache folder: what discovery learnt goes there.
    save_unclaimed_memos()
    if context_files:
        # Collectors only: project rules need every file's facts, findings come from
        # the reported files only.
        offset = len(files)

        def context_progress(done: int, total: int) -> None:
            if progress is not None:
                progress(offset + done, offset + total)

        context_results = analyze(
            context_files,
            config,
            [],
            selection.collectors,
            jobs=jobs or 0,
            progress=context_progress,
            use_cache=options.use_cache,
            stats=context_execution,
            reuse_rules=selection.file_rules,  # a full run's entries hold the facts too
            defer_facts=defer,
            reuse_cache=execution.cache,  # the one the call above opened, with those rules
        )
        execution.files_from_cache += context_execution.files_from_cache
        for result in context_results:
            result.notifications = [
                n for n in result.notifications if n.kind == NotificationKind.INTERNAL_ERROR
            ]
        results = [*results, *context_results]
    if options.shards is not None and options.shards.writing:
        return Report(root=str(config.root))  # the merge (--facts-in) runs the rest

    report = Report(
        root=str(config.root),
        rules=[rule.info() for rule in selection.all],
        config_file=str(config.config_file) if config.config_file else None,
    )
    report.notifications.extend(
        Notification(kind=NotificationKind.CONFIG, message=message, level="error")
        for message in registry.load_errors
    )
    report.notifications.extend(execution.notifications)
    report.notifications.extend(
        Notification(
            kind=NotificationKind.READ_ERROR,
            message=f"cannot read folder: {why}; its files were not scanned",
            path=folder,
        )
        for folder, why in unreadable
    )
    report.notifications.extend(
        Notification(kind=NotificationKind.CONFIG, message=warning, level="warning")
        for warning in project_layout(config).warnings
    )
    findings: list[Finding] = []
    comments: dict[str, list[SuppressionComment]] = {}
    for result in results:
        findings.extend(result.findings)
        report.notifications.extend(result.notifications)
        if result.suppressions:
            comments[result.relpath] = result.suppressions
        if result.digest:
            report.file_hashes[result.relpath] = result.digest

    # The pickled facts of cached results, by path and key: the memo compares a changed
    # file's facts without unpickling the others, and the index unpickles a key when a
    # rule first reads it (integ_lint.model.project.FactColumns).
    pickled = {
        result.relpath: facts
        for stats in (execution, context_execution)
        for result, facts, _ in stats.deferred
    }
    unpickle = fact_unpickler((execution, context_execution), config, selection.collectors)
    # The phase sees the files in path order whichever were named (a pre-commit run
    # puts them first): the same index, memo key and outcome as a full run's.
    in_order = sorted(results, key=_relpath_of)
    phase = _ProjectPhase(in_order, config, selection, report, options, roles, pickled, unpickle)
    findings.extend(phase.findings())
    # Roles change what is reported, not what is known: drop findings in files whose
    # role the rule does not report on (before suppressions, so that a comment
    # silencing such a finding shows up as unused).
    findings = filter_by_role(findings, selection, roles)

    if options.report_paths is not None:
        findings = [f for f in findings if f.path in options.report_paths]
        comments = {p: c for p, c in comments.items() if p in options.report_paths}
    findings = _apply_config_filters(findings, config)
    findings = assign_fingerprints(findings)
    kept, suppressed, used = apply_suppressions(findings, comments)
    active_codes = {rule.code for rule in selection.all}
    if UNUSED_CODE in active_codes:
        unused = unused_suppressions(comments, used, active_codes, registry.codes)
        kept.extend(assign_fingerprints(_apply_config_filters(unused, config)))
    report.findings = kept
    report.suppressed = list(suppressed)
    reported = results[: len(files)]
    report.stats = RunStats(
        files_scanned=len(reported),
        files_context=len(results) - len(reported),
        lines_scanned=sum(r.line_count for r in reported),
        files_failed=sum(1 for r in reported if not r.parsed),
        files_from_cache=execution.files_from_cache,
        elapsed_seconds=time.perf_counter() - started,
        suppressed=len(suppressed),
        baselined=report.stats.baselined,
    )
    return report


def _project_context(
    paths: Sequence[Path],
    files: list[SourceFile],
    config: Config,
    selection: Selection,
    options: RunOptions,
) -> tuple[RunOptions, list[SourceFile], list[SourceFile]]:
    """Split the work into files analysed fully and files analysed for facts only.

    Whatever ``paths`` name (files as pre-commit passes them, or folders), project
    rules see the facts of the whole project (the config's root, when a
    ``pyproject.toml`` defines it) and findings are reported only on the given files.
    ``report_paths`` likewise limits file rules to the reported files. Returns the
    options with the effective ``report_paths``.
    """
    report_paths = options.report_paths
    whole = files
    if options.project_context and paths and config.config_file is not None:
        everything = project_files(config)
        given = {f.relpath for f in files}
        if not given.issuperset(f.relpath for f in everything):
            report_paths = given if report_paths is None else report_paths & given
            if selection.collectors:
                whole = [*files, *(f for f in everything if f.relpath not in given)]
    if report_paths is None:
        return options, files, []
    primary = [f for f in whole if f.relpath in report_paths]
    context = [f for f in whole if f.relpath not in report_paths] if selection.collectors else []
    return replace(options, report_paths=report_paths), primary, context


@dataclass
class _ProjectPhase:
    """The project phase of one run: the index, the project rules over it, and the
    memo that lets a later run rerun only the rules whose inputs changed
    (:mod:`integ_lint.engine.phase_memo`)."""

    results: list[FileResult]
    config: Config
    selection: Selection
    report: Report
    options: RunOptions
    roles: dict[str, str]
    # Facts still pickled (results from the cache), by path and key.
    pickled: dict[str, PickledFacts] = field(default_factory=dict)
    unpickle: Unpickle | None = None
    # What the last _run recorded for the memo: each rule's outcome, the derived
    # structures' traces (None: it did not record).
    _recorded: tuple[list[RuleOutcome], dict[str, tuple[str, FrameTrace]]] | None = None
    # And for the derived structures' kept summaries: those offered by the structures
    # built, the keys built, the plan the run kept rules of (phase_memo.kept_summaries).
    _built: tuple[dict[str, KeptSummary], set[str], Plan | None] = ({}, set(), None)

    def findings(self) -> list[Finding]:
        """The project rules' findings (and their notifications, added to the report)."""
        if not self.selection.project_rules and not self.options.collectors:
            return []
        memo_cache, memo_key = self._memo()
        contents = {result.relpath: result.digest for result in self.results}
        memo = memo_cache.get_memo(memo_key) if memo_cache is not None else None
        kept: Plan | None = None
        if memo_cache is not None and memo is not None:
            kept = self._plan(memo, memo_cache)
            if kept is not None and not kept.reruns:
                outcomes = [o for o in kept.outcomes if o is not None]
                try:
                    findings, notifications, used = assemble(outcomes, kept.stored_derived)
                except GiveUp:
                    kept = None
                else:
                    # Nothing the rules read changed but, maybe, the lines of their facts
                    # (integ_lint.engine.memo_remap): their outcome stands, moved with them.
                    if memo.files != contents or outcomes != memo.rules:
                        derived = {key: (memo.derived[key][0], used[key]) for key in used}
                        memo_cache.put_memo(
                            replace(memo, rules=outcomes, derived=derived, files=contents)
                        )
                    self.report.notifications.extend(notifications)
                    return findings
        self._recorded = None
        with _facts_spared_by_the_collector(), recording_reads() as reads:
            findings = self._run(kept if memo_cache is not None else None, memo_cache is not None)
        if memo_cache is not None and self._recorded is not None:
            rules, derived = self._recorded
            if kept is not None:
                # The rules kept read from disk what the memo noted (unchanged: checked).
                known = {(kind, repr(where)) for kind, where, _ in reads}
                reads = [*reads, *(r for r in kept.memo.reads if (r[0], repr(r[1])) not in known)]
            summaries, built, kept_plan = self._built
            refs = kept_summaries(memo_cache, memo_key, summaries, built, derived, kept_plan)
            memo_cache.put_memo(ProjectMemo(memo_key, reads, rules, derived, contents, refs))
        return findings

    def _plan(self, memo: ProjectMemo, memo_cache: FileCache) -> Plan | None:
        """Which rules keep their outcome, or None when every rule must run. A file
        whose content changed since ``memo`` was stored is compared by its facts, read
        from the entry of its former content, key by key (:class:`ChangedFacts`): the
        phase sees files only through their facts, so an edit that changes none (a
        comment) keeps every outcome, and one that only moves them (a line inserted at
        the top) moves the outcomes instead."""
        if memo.files.keys() != {result.relpath for result in self.results}:
            return None
        changed = [r for r in self.results if memo.files[r.relpath] != r.digest]
        facts = ChangedFacts()
        if len(changed) > MEMO_COMPARED_FILES or not all(r.digest for r in changed):
            return None
        caches = [memo_cache]  # facts-only entries: context files of a pre-commit run
        if changed:
            with contextlib.suppress(CacheError):
                caches.append(
                    FileCache.for_run(
                        self.config, self.selection.file_rules, self.selection.collectors
                    )
                )
        for result in changed:
            before = next(
                (
                    found
                    for cache in caches
                    if (found := cache.stored_facts(result, memo.files[result.relpath])) is not None
                ),
                None,
            )
            if before is None:
                return None  # the former entry is gone (pruned): run the phase
            facts.before[result.relpath] = before
            now = self.pickled.get(result.relpath)
            if now is not None:
                facts.now_pickled[result.relpath] = now
            else:
                facts.now_loaded[result.relpath] = result.facts
        attach_reducers(facts, memo, memo_cache)
        return plan(memo, self.selection.project_rules, facts)

    def _memo(self) -> tuple[FileCache | None, str]:
        """The cache holding the project phase's memo and its key, or (None, "") when
        the phase must run: no cache, or a caller that reads the index
        (``keep_project``, extra collectors)."""
        if not self.options.use_cache or self.options.keep_project or self.options.collectors:
            return None, ""
        try:
            cache = FileCache.for_run(self.config, [], self.selection.collectors)
        except CacheError:
            return None, ""
        if cache.max_bytes <= 0:
            return None, ""
        key = project_memo_key(
            self.config,
            self.selection.project_rules,
            self.selection.collectors,
            self.results,
            self.roles,
        )
        return cache, key

    def _run(self, kept: Plan | None = None, record: bool = False) -> list[Finding]:
        """Run the project rules (those ``kept`` does not keep); with ``record``, note
        each one's outcome for the memo (:attr:`_recorded`)."""
        index = self._index()
        if not record:
            findings: list[Finding] = []
            for rule in self.selection.project_rules:
                outcome = self._run_rule(rule, index)
                findings.extend(outcome.findings)
                if outcome.error is not None:
                    self.report.notifications.append(outcome.error)
            self.report.notifications.extend(index.notifications)
            index.report_paths = self.options.report_paths  # for the callers of report.project
            return findings
        recorder = index.record_reads()
        rules = self.selection.project_rules
        outcomes: list[RuleOutcome | None] = (
            list(kept.outcomes) if kept is not None else [None] * len(rules)
        )
        for position, rule in enumerate(rules):
            if outcomes[position] is None:
                outcomes[position] = self._run_rule(rule, index, recorder)
        if kept is not None and any(
            kept.memo.derived.get(key, (builder,))[0] != builder
            for key, (builder, _) in recorder.derived.items()
        ):
            # A structure built by another builder than the memo's first requester
            # used: what the kept rules saw may differ; run every rule afresh.
            index = self._index()
            recorder = index.record_reads()
            outcomes = [self._run_rule(rule, index, recorder) for rule in rules]
            kept = None

        def derived(key: str) -> FrameTrace | None:
            if key in recorder.derived:
                return recorder.derived[key][1]
            return kept.stored_derived(key) if kept is not None else None

        done = [o for o in outcomes if o is not None]
        try:
            findings, notifications, used = assemble(done, derived)
        except GiveUp:
            # A kept rule requested a structure whose stored trace cannot be moved:
            # the kept rules run too, and build it.
            for position, rule in enumerate(rules):
                if kept is not None and kept.outcomes[position] is not None:
                    outcomes[position] = self._run_rule(rule, index, recorder)
            kept = None
            done = [o for o in outcomes if o is not None]
            findings, notifications, used = assemble(done, derived)
        builders = {key: builder for key, (builder, _) in recorder.derived.items()}
        if kept is not None:
            builders.update({k: v[0] for k, v in kept.memo.derived.items() if k not in builders})
        self._recorded = (done, {key: (builders[key], trace) for key, trace in used.items()})
        self._built = (index.kept_summaries(), set(recorder.derived), kept)
        self.report.notifications.extend(notifications)
        index.report_paths = self.options.report_paths  # for the callers of report.project
        return findings

    def _index(self) -> ProjectIndex:
        """The index of the run's results, with no reported paths while the rules run:
        they report on every file, and the engine keeps the findings on the reported
        paths (:func:`_run_project`). So a memoised outcome serves any later set of
        reported paths (a pre-commit run after a full one), and a pre-commit run
        reports what a full run reports on its files."""
        index = ProjectIndex.from_results(
            self.results, self.config, self.roles, self.pickled, self.unpickle
        )
        self.report.project = index
        return index

    def _run_rule(
        self, rule: ProjectRuleRef, index: ProjectIndex, recorder: ReadRecorder | None = None
    ) -> RuleOutcome:
        """Run one rule; a crash becomes its internal-error notification (the findings
        it yielded before it stay, as ``list.extend`` keeps them)."""
        findings: list[Finding] = []
        error: Notification | None = None
        traced: list[FrameTrace] = []
        with recorder.rule() if recorder is not None else contextlib.nullcontext(traced) as traced:
            try:
                findings.extend(rule().check(index))
            except ConfigError:
                raise  # configuration that names nothing in the tree (a contract's module)
            except Exception as exc:
                error = Notification(
                    kind=NotificationKind.INTERNAL_ERROR,
                    message=f"internal error in {rule.code} (project rule): {type(exc).__name__}: {exc}",
                    rule=rule.code,
                    level="error",
                )
        trace = traced[0] if traced else FrameTrace(frozenset())
        return RuleOutcome(rule_name(rule), trace, findings, error)


def _relpath_of(result: FileResult) -> str:
    return result.relpath


@contextlib.contextmanager
def _facts_spared_by_the_collector(load_facts: Callable[[], None] = lambda: None) -> Iterator[None]:
    """Run ``load_facts`` (facts loaded before the phase), then the body, without the
    cyclic garbage collector walking the facts: unpickling
    every file's facts builds millions of objects (the index unpickles each key as a
    rule first reads it), and the collections they set off while they are built took
    most of the time of the load (2.2 s of 2.5 s on a 850-file project). Nothing of
    them is garbage before the phase ends; they are handed back to the collector after
    it. The index's structures (call graph, manager graph, ...) live until the phase
    ends too, and the collections their building set off cost 15% of the phase (0.4 s
    of 2.6 s on Django); what the phase drops is freed by reference counting."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        load_facts()
        gc.freeze()
        yield
    finally:
        # What the phase built joins the facts in the oldest generation (frozen, then
        # unfrozen with them) instead of setting off a young collection of all of it as
        # the collector comes back (0.09 s on Django).
        gc.freeze()
        gc.unfreeze()
        if enabled:
            gc.enable()


def filter_by_role(
    findings: list[Finding], selection: Selection, roles: dict[str, str]
) -> list[Finding]:
    """The findings whose file's role is among the reporting rule's ``roles``."""
    reported_roles = {rule.code: rule.roles for rule in selection.all}
    kept = []
    for finding in findings:
        allowed = reported_roles.get(finding.code)
        if allowed is None or roles.get(finding.path, LIBRARY) in allowed:
            kept.append(finding)
    return kept


def _apply_config_filters(findings: list[Finding], config: Config) -> list[Finding]:
    general = config.general
    kept = []
    for finding in findings:
        ignored = any(
            matches_any(finding.path, [pattern])
            and any(finding.code.startswith(code) for code in codes)
            for pattern, codes in general.per_file_ignores.items()
        )
        if ignored:
            continue
        override = _severity_override(finding.code, general.severity)
        if override is not None and override != finding.severity:
            finding = replace(finding, severity=override)
        kept.append(finding)
    return kept


def _severity_override(code: str, overrides: dict[str, str]) -> Severity | None:
    best = max((key for key in overrides if code.startswith(key)), key=len, default=None)
    return Severity.parse(overrides[best]) if best is not None else None
