//! `deploy`: the zip to a running function (SPEC "Deploy"); the steps live in
//! [`crate::deploy`], this reads the flags and writes the lines.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::error::{CliError, EXIT_FAILED};
use super::start::{env, start, tokio_runtime};
use crate::deploy::{self, DeployError, Options, RoleChoice, Waiting};
use crate::transport::HttpClient;

pub(super) const DEPLOY_HELP: &str = "\
Examples:
  scripts/package.sh
  export TENCENTCLOUD_REGION=ap-guangzhou COS_BUCKET=archive-1250000000
  mps-cos-backup deploy --create-role --plan
  mps-cos-backup deploy --create-role
  CALLBACK_TOKEN=$(openssl rand -hex 24) mps-cos-backup deploy --role mps-cos-backup-role --url

Environment:
  TENCENTCLOUD_SECRETID, TENCENTCLOUD_SECRETKEY, TENCENTCLOUD_SESSIONTOKEN
                       the deploying account's keys (never copied into the function)
  TENCENTCLOUD_REGION  region of the function when --region is not given
  COS_*, ARCHIVE_*, FORWARD_*, CALLBACK_*, MPS_*, RECONCILE_*, LOG_FORMAT, LOG_LEVEL
                       every variable of the configuration table (README.md) that is set
                       becomes the function's environment, checked first by runtime mode's
                       rules (COS_BUCKET is required); secrets among them are never printed
  DEPLOY_SCF_ENDPOINT, DEPLOY_CAM_ENDPOINT
                       Cloud API endpoints (default https://scf.tencentcloudapi.com and
                       https://cam.tencentcloudapi.com)
One line per step on stderr, a JSON summary on stdout (with the steps left to do by hand).
Exit 2 when the flags, the zip or the configuration are wrong (before any API call),
1 when an API call fails or the function does not become Active.";

#[derive(Debug, Args)]
pub(super) struct DeployArgs {
    /// The deploy package (scripts/package.sh writes it)
    #[arg(long, value_name = "PATH", default_value = "dist/mps-cos-backup.zip")]
    zip: PathBuf,
    /// Function name
    #[arg(long, value_name = "NAME", default_value = "mps-cos-backup")]
    function: String,
    /// Namespace
    #[arg(long, value_name = "NS", default_value = "default")]
    namespace: String,
    /// Region (default TENCENTCLOUD_REGION)
    #[arg(long, value_name = "REGION")]
    region: Option<String>,
    /// Execution role of the function (an existing CAM role)
    #[arg(long, value_name = "NAME", conflicts_with = "create_role")]
    role: Option<String>,
    /// Create (or bring up to date) the role FUNCTION-role trusting SCF, with a policy derived from the configuration
    #[arg(long)]
    create_role: bool,
    /// Memory in MB (64, or 128 to 3072 in steps of 128)
    #[arg(long, value_name = "MB", default_value_t = 64)]
    memory: u32,
    /// Time limit of one invocation, seconds (1 to 900)
    #[arg(long, value_name = "S", default_value_t = 60)]
    timeout: u32,
    /// Also create the Function URL (http trigger, no CAM auth, public) for URL callbacks
    #[arg(long)]
    url: bool,
    /// Do not run the hourly reconcile timer (an existing one is disabled)
    #[arg(long)]
    no_reconcile: bool,
    /// Only read (GetFunction, ListTriggers, GetRole and the role's policy) and print what would change
    #[arg(long)]
    plan: bool,
    /// Milliseconds between two GetFunction while waiting for Active (tests)
    #[arg(long, hide = true, default_value_t = 1000)]
    poll_interval_ms: u64,
    /// Longest wait for Active after one change, milliseconds (tests)
    #[arg(long, hide = true, default_value_t = 300_000)]
    wait_limit_ms: u64,
}

pub(super) fn deploy(args: DeployArgs) -> Result<ExitCode, CliError> {
    // Logging for the client's own warnings (retries); the configuration checked is the
    // function's, below.
    start(true, |_| Ok(()))?;
    let role = match (args.role, args.create_role) {
        (Some(r), _) => RoleChoice::Named(r),
        (None, true) => RoleChoice::Create,
        (None, false) => RoleChoice::Keep,
    };
    let opts = Options {
        zip: args.zip,
        function: args.function,
        namespace: args.namespace,
        region: args.region,
        role,
        memory_mb: args.memory,
        timeout_s: args.timeout,
        url: args.url,
        reconcile: !args.no_reconcile,
        plan: args.plan,
        waiting: Waiting {
            interval: Duration::from_millis(args.poll_interval_ms.max(1)),
            limit: Duration::from_millis(args.wait_limit_ms),
        },
    };
    let fail = |e: &DeployError, mask: &dyn Fn(&str) -> String| CliError::Deploy {
        code: e.exit_code(),
        message: mask(&crate::text::one_line(&e.to_string())),
    };
    // Nothing secret reaches these errors: configuration errors never show values.
    let prepared = deploy::prepare(opts, env).map_err(|e| fail(&e, &|s| s.to_string()))?;
    let rt = tokio_runtime()?;
    let mask = |s: &str| prepared.mask(s);
    let result = rt.block_on(async {
        let mut step = |line: &str| eprintln!("deploy: {}", mask(line));
        deploy::run(&prepared, HttpClient::new(), &mut step).await
    });
    match result {
        Ok(summary) => {
            let mut out = std::io::stdout().lock();
            match writeln!(out, "{}", mask(&summary.to_string())).and_then(|()| out.flush()) {
                Ok(()) => Ok(ExitCode::SUCCESS),
                Err(e) => Err(CliError::Deploy {
                    code: EXIT_FAILED,
                    message: format!("cannot write the summary: {e}"),
                }),
            }
        }
        Err(e) => Err(fail(&e, &mask)),
    }
}
