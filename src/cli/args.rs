//! The command line as clap reads it: the subcommands, their flags (each command's own
//! arguments live with the command) and the help texts; a usage error as one line.

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use super::error::{CliError, EXIT_USAGE};
use super::{deploy, get, invoke, ls, reconcile, replay, stats};

const AFTER_HELP: &str = "\
Without arguments it runs in runtime mode (SCF starts it so, through ./bootstrap).

Examples:
  mps-cos-backup invoke fixtures/*.json
  mps-cos-backup ls --since 2026-03-15 --until 2026-03-15 --type WorkflowTask
  mps-cos-backup ls --failed --since 2026-03-15 --json
  mps-cos-backup get mps-events/WorkflowTask/2026/03/15/TASK.finish.partial.DIGEST.json --event
  mps-cos-backup stats --since 2026-03-01 --until 2026-03-31
  mps-cos-backup replay --to https://hooks.example.com/mps --since 2026-03-21 --dry-run
  mps-cos-backup reconcile --dry-run
  mps-cos-backup deploy --create-role --plan

Configuration is read from the environment (COS_BUCKET, COS_REGION, ...); see README.md
and `mps-cos-backup help COMMAND` for what each command reads.
Readers use COS when COS_BUCKET is set, else the local mirror (--local).
Exit codes: 0 normal end, 1 runtime API lost / an invoke, get, replay, reconcile or deploy
failed / credentials rejected / output could not be written, 2 bad configuration or
usage, 130 replay interrupted.";

/// Where the archive readers find it, and as whom (`ls`, `get`, `stats`, `replay`).
macro_rules! reader_env {
    () => {
        "Environment:
  COS_BUCKET           read from this bucket (else the local mirror, --local)
  COS_REGION           its region (default TENCENTCLOUD_REGION); COS_ENDPOINT to override the host
  COS_KEY_PREFIX, COS_KEY_TEMPLATE, ARCHIVE_UTC_OFFSET
                       the key layout the function writes with
  TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY, TENCENTCLOUD_SESSIONTOKEN
                       credentials for COS (a role or a key allowed cos:GetBucket and cos:GetObject)
  LOG_LEVEL, LOG_FORMAT
                       diagnostics on stderr (errors only by default)"
    };
}

const INVOKE_HELP: &str = "\
Examples:
  mps-cos-backup invoke fixtures/workflow-finish-success.json
  cat event.json | mps-cos-backup invoke -
  COS_BUCKET=archive-1250000000 COS_REGION=ap-guangzhou mps-cos-backup invoke *.json

Environment: the function's own (see README.md \"Configuration\"):
  COS_BUCKET           store into this bucket (else into --local), with COS_REGION, COS_ENDPOINT,
                       COS_KEY_PREFIX, COS_KEY_TEMPLATE, COS_STORAGE_CLASS, ARCHIVE_UTC_OFFSET,
                       ARCHIVE_EVENT_TYPES, ARCHIVE_REDACT
  ARCHIVE_FORWARD      also forward each event (FORWARD_NOTIFY_KEY, FORWARD_SCF_ENDPOINT,
                       FORWARD_SCF_REGION)
  TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY, TENCENTCLOUD_SESSIONTOKEN
                       credentials for COS and scf: targets (not needed for --local alone)
  CALLBACK_TOKEN, CALLBACK_NOTIFY_KEY, CALLBACK_ALLOW_UNSIGNED
                       how a Function URL event file (an HTTP request) is authenticated
Exit 1 when an event failed, an HTTP request was answered with a status other than 2xx,
or the results could not be written.";

const LS_HELP: &str = concat!(
    "\
Examples:
  mps-cos-backup ls --since 2026-03-15 --until 2026-03-15 --type WorkflowTask
  mps-cos-backup ls --failed --since 2026-03-01 --json
  mps-cos-backup ls --outcome partial --type WorkflowTask
  mps-cos-backup ls --since 2026-03-21T02:00:00+08:00 --until 2026-03-23 --json

Lines are written as the listing goes (by date then key), in bounded memory.

",
    reader_env!()
);

const GET_HELP: &str = concat!(
    "\
Examples:
  mps-cos-backup get mps-events/WorkflowTask/2026/03/15/TASK.finish.partial.DIGEST.json
  mps-cos-backup get mps-events/WorkflowTask/2026/03/15/TASK.finish.partial.DIGEST.json --event

Indented on a terminal, one line otherwise. A record whose content no longer matches the
digest in its key is printed with a warning on stderr, exit 1.

",
    reader_env!()
);

const STATS_HELP: &str = concat!(
    "\
Examples:
  mps-cos-backup stats --since 2026-03-01 --until 2026-03-31
  mps-cos-backup stats --failed --type WorkflowTask --json

",
    reader_env!()
);

const REPLAY_HELP: &str = concat!(
    "\
Examples:
  mps-cos-backup replay --to https://hooks.example.com/mps --since 2026-03-21 --dry-run
  mps-cos-backup replay --to scf:media-jobs/on-transcode-done:prod --since 2026-03-21T02:00:00+08:00

Oldest first: date by date (the key's), within a date by event_time (else received_at),
then key. One task's records are never in flight together. SIGINT/SIGTERM: the sends in
flight finish, the summary names the first record not sent and the --since that resumes
there, exit 130.

",
    reader_env!(),
    "
  FORWARD_NOTIFY_KEY   re-sign callbacks sent to a URL target as MPS signs them
  FORWARD_SCF_ENDPOINT, FORWARD_SCF_REGION
                       Cloud API endpoint and region of scf: targets (default region
                       TENCENTCLOUD_REGION); the credentials need scf:InvokeFunction on them"
);

const RECONCILE_HELP: &str = "\
Asks MPS (DescribeTasks) which tasks finished in the window and archives the callback of
each one the archive holds no end record of, rebuilt from DescribeTaskDetail (source
reconcile). One JSON line per missing task on stdout (task_id, task_type, finish_time, key,
action: recovered | would-recover | failed, error); a summary on stderr (tasks, present,
recovered, failed, skipped_grace, ...). Exit 1 when any task failed, 2 when the window
reaches more than 7 days back (MPS keeps its task list for 7 days).

Examples:
  mps-cos-backup reconcile --dry-run
  mps-cos-backup reconcile --since 2026-12-04 --until 2026-12-04
  mps-cos-backup reconcile --since 2026-12-05T00:00:00+08:00 --forward
  mps-cos-backup reconcile --local ./local-cos

Environment:
  MPS_ENDPOINT, MPS_REGION
                       MPS's Cloud API (default https://mps.tencentcloudapi.com, region
                       TENCENTCLOUD_REGION)
  RECONCILE_WINDOW     the window when --since is not given (default 24h, at most 7d)
  RECONCILE_GRACE      tasks that finished less than this ago are left alone (default 10m)
  RECONCILE_FORWARD    on: forward recovered callbacks as --forward does
  COS_BUCKET           the archive (else the local mirror, --local), with COS_REGION,
                       COS_ENDPOINT, COS_KEY_PREFIX, COS_KEY_TEMPLATE, ARCHIVE_UTC_OFFSET,
                       ARCHIVE_EVENT_TYPES, ARCHIVE_REDACT
  ARCHIVE_FORWARD      where --forward sends (FORWARD_NOTIFY_KEY, FORWARD_SCF_ENDPOINT,
                       FORWARD_SCF_REGION)
  TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY, TENCENTCLOUD_SESSIONTOKEN
                       credentials allowed mps:DescribeTasks, mps:DescribeTaskDetail and, for
                       COS, cos:GetBucket and cos:PutObject
  LOG_LEVEL, LOG_FORMAT
                       diagnostics on stderr (warnings by default)";

/// Archive Tencent Cloud MPS task callbacks into COS (SCF custom runtime), and read them back.
#[derive(Debug, Parser)]
#[command(
    name = "mps-cos-backup",
    version,
    after_help = AFTER_HELP,
    subcommand_required = true
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
pub(super) enum Cmd {
    /// Archive each event file as runtime mode would; one JSON result line per event
    #[command(after_help = INVOKE_HELP)]
    Invoke(invoke::InvokeArgs),
    /// List archived callbacks, ordered by date then key
    #[command(after_help = LS_HELP)]
    Ls(ls::LsArgs),
    /// Print one archived record (or only its event)
    #[command(after_help = GET_HELP)]
    Get(get::GetArgs),
    /// Count archived callbacks per date, event type, status and outcome
    #[command(after_help = STATS_HELP)]
    Stats(stats::StatsArgs),
    /// Send archived callbacks to a target again, oldest first
    #[command(after_help = REPLAY_HELP)]
    Replay(replay::ReplayArgs),
    /// Archive the callbacks of finished MPS tasks that the archive lacks
    #[command(after_help = RECONCILE_HELP)]
    Reconcile(reconcile::ReconcileArgs),
    /// Create or update the function, its role and triggers from the zip (Cloud API)
    #[command(after_help = deploy::DEPLOY_HELP)]
    Deploy(deploy::DeployArgs),
}

/// The command `args` (without the program name) ask for.
pub(super) fn parse(args: Vec<OsString>) -> Result<Cmd, clap::Error> {
    let argv = std::iter::once(OsString::from("mps-cos-backup")).chain(args);
    Cli::try_parse_from(argv).map(|c| c.command)
}

/// Prints `--help`/`--version` (exit 0); anything else is a usage error, one line (exit 2).
pub(super) fn usage_error(e: &clap::Error) -> Result<ExitCode, CliError> {
    use clap::error::ErrorKind;
    if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
        let _ = e.print();
        return Ok(ExitCode::SUCCESS);
    }
    // clap's message runs until the blank line before its usage block; some (missing
    // arguments) continue on indented lines, which one_line joins.
    let text = e.render().to_string();
    let message: Vec<&str> = text.lines().take_while(|l| !l.trim().is_empty()).collect();
    let message = message.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    Err(CliError::Line {
        code: EXIT_USAGE,
        message: format!("{}; try --help", crate::text::one_line(message)),
    })
}
