//! SCF's management actions (Cloud API 3.0, version 2018-04-16) without I/O: each action's
//! request as an [`ApiCall`] with the field names and types of the official SDK's request
//! models, and the answers read into typed structs (`reference/scf-deploy.md`).

use serde::{Deserialize, Serialize};

use super::call::{ApiCall, ApiFailure, BuildError};
use super::invoke::{SERVICE, VERSION};

/// A function by namespace and name (the unit every management action addresses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FunctionRef {
    /// Namespace (`default` unless chosen).
    pub(crate) namespace: String,
    /// Function name.
    pub(crate) name: String,
}

impl FunctionRef {
    fn permission(&self, action: &str) -> String {
        format!(
            "scf:{action} on namespace/{}/function/{}",
            self.namespace, self.name
        )
    }

    fn call<P: Serialize>(&self, action: &'static str, params: &P) -> Result<ApiCall, BuildError> {
        ApiCall::new(SERVICE, VERSION, action, params, self.permission(action))
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Named<'a> {
    function_name: &'a str,
    namespace: &'a str,
}

/// `GetFunction`: the function's state, or `ResourceNotFound.Function*` ([`is_function_absent`]).
pub(crate) fn get_function(f: &FunctionRef) -> Result<ApiCall, BuildError> {
    f.call(
        "GetFunction",
        &Named {
            function_name: &f.name,
            namespace: &f.namespace,
        },
    )
}

/// Whether a failure says the function does not exist.
pub(crate) fn is_function_absent(failure: &ApiFailure) -> bool {
    matches!(
        failure.code(),
        Some("ResourceNotFound.Function" | "ResourceNotFound.FunctionName")
    )
}

/// One reason of a `*Failed` state.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct StatusReason {
    /// Error code.
    #[serde(default)]
    pub(crate) error_code: String,
    /// What went wrong.
    #[serde(default)]
    pub(crate) error_message: String,
}

/// The part of a `GetFunction` answer a deploy needs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct FunctionState {
    /// `Active`, `Creating`, `Updating`, `CreateFailed`, `UpdateFailed`, ...
    pub(crate) status: String,
    /// Why the function is in a `*Failed` state.
    #[serde(default)]
    pub(crate) status_reasons: Vec<StatusReason>,
}

impl FunctionState {
    /// Ready for the next change.
    pub(crate) fn is_active(&self) -> bool {
        self.status == "Active"
    }

    /// A state no waiting ends (`CreateFailed`, `UpdateFailed`, ...).
    pub(crate) fn is_failed(&self) -> bool {
        self.status.ends_with("Failed")
    }

    /// The reasons on one line, `code: message; ...`.
    pub(crate) fn reasons(&self) -> String {
        let all: Vec<String> = self
            .status_reasons
            .iter()
            .map(|r| format!("{}: {}", r.error_code, r.error_message))
            .collect();
        if all.is_empty() {
            "no reason given".into()
        } else {
            all.join("; ")
        }
    }
}

/// What a function is created or configured with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FunctionSettings {
    /// Memory in MB (64, or 128..=3072 in steps of 128).
    pub(crate) memory_mb: u32,
    /// Time limit of one invocation, seconds (1..=900).
    pub(crate) timeout_s: u32,
    /// The environment variables, in order.
    pub(crate) environment: Vec<(String, String)>,
    /// Execution role name, when any.
    pub(crate) role: Option<String>,
    /// Description shown in the console.
    pub(crate) description: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Variable<'a> {
    key: &'a str,
    value: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Environment<'a> {
    variables: Vec<Variable<'a>>,
}

impl FunctionSettings {
    fn environment(&self) -> Environment<'_> {
        Environment {
            variables: self
                .environment
                .iter()
                .map(|(key, value)| Variable { key, value })
                .collect(),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Code<'a> {
    zip_file: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateFunction<'a> {
    function_name: &'a str,
    namespace: &'a str,
    runtime: &'static str,
    handler: &'static str,
    #[serde(rename = "Type")]
    kind: &'static str,
    memory_size: u32,
    timeout: u32,
    environment: Environment<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
    description: &'a str,
    code: Code<'a>,
}

/// Runtime of a custom-runtime function: SCF starts `bootstrap`.
pub(crate) const RUNTIME: &str = "CustomRuntime";
/// The handler SCF records for a custom runtime.
pub(crate) const HANDLER: &str = "bootstrap";

/// `CreateFunction` of an event function running `bootstrap` from the zip (`zip_base64`).
pub(crate) fn create_function(
    f: &FunctionRef,
    settings: &FunctionSettings,
    zip_base64: &str,
) -> Result<ApiCall, BuildError> {
    f.call(
        "CreateFunction",
        &CreateFunction {
            function_name: &f.name,
            namespace: &f.namespace,
            runtime: RUNTIME,
            handler: HANDLER,
            kind: "Event",
            memory_size: settings.memory_mb,
            timeout: settings.timeout_s,
            environment: settings.environment(),
            role: settings.role.as_deref(),
            description: &settings.description,
            code: Code {
                zip_file: zip_base64,
            },
        },
    )
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateCode<'a> {
    function_name: &'a str,
    namespace: &'a str,
    handler: &'static str,
    zip_file: &'a str,
}

/// `UpdateFunctionCode` with the zip (`zip_base64`).
pub(crate) fn update_function_code(
    f: &FunctionRef,
    zip_base64: &str,
) -> Result<ApiCall, BuildError> {
    f.call(
        "UpdateFunctionCode",
        &UpdateCode {
            function_name: &f.name,
            namespace: &f.namespace,
            handler: HANDLER,
            zip_file: zip_base64,
        },
    )
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateConfiguration<'a> {
    function_name: &'a str,
    namespace: &'a str,
    memory_size: u32,
    timeout: u32,
    environment: Environment<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    role: Option<&'a str>,
    description: &'a str,
}

/// `UpdateFunctionConfiguration`: memory, time limit, the whole environment, role.
pub(crate) fn update_function_configuration(
    f: &FunctionRef,
    settings: &FunctionSettings,
) -> Result<ApiCall, BuildError> {
    f.call(
        "UpdateFunctionConfiguration",
        &UpdateConfiguration {
            function_name: &f.name,
            namespace: &f.namespace,
            memory_size: settings.memory_mb,
            timeout: settings.timeout_s,
            environment: settings.environment(),
            role: settings.role.as_deref(),
            description: &settings.description,
        },
    )
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RetryConfig {
    retry_num: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AsyncTriggerConfig {
    retry_config: Vec<RetryConfig>,
    #[serde(rename = "MsgTTL")]
    msg_ttl: u32,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EventInvokeConfig<'a> {
    function_name: &'a str,
    namespace: &'a str,
    async_trigger_config: AsyncTriggerConfig,
}

/// `UpdateFunctionEventInvokeConfig`: how often and how long SCF retries a failed
/// asynchronous invocation.
pub(crate) fn update_event_invoke_config(
    f: &FunctionRef,
    retries: u32,
    message_ttl_s: u32,
) -> Result<ApiCall, BuildError> {
    f.call(
        "UpdateFunctionEventInvokeConfig",
        &EventInvokeConfig {
            function_name: &f.name,
            namespace: &f.namespace,
            async_trigger_config: AsyncTriggerConfig {
                retry_config: vec![RetryConfig { retry_num: retries }],
                msg_ttl: message_ttl_s,
            },
        },
    )
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct ListTriggers<'a> {
    function_name: &'a str,
    namespace: &'a str,
    offset: u32,
    limit: u32,
}

/// Largest `ListTriggers` page.
pub(crate) const TRIGGER_PAGE: u32 = 100;

/// `ListTriggers`, one page from `offset`.
pub(crate) fn list_triggers(f: &FunctionRef, offset: u32) -> Result<ApiCall, BuildError> {
    f.call(
        "ListTriggers",
        &ListTriggers {
            function_name: &f.name,
            namespace: &f.namespace,
            offset,
            limit: TRIGGER_PAGE,
        },
    )
}

/// One trigger as listed.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TriggerInfo {
    /// `timer`, `http`, `cos`, `mps`, ...
    #[serde(rename = "Type")]
    pub(crate) kind: String,
    /// Name.
    pub(crate) trigger_name: String,
    /// Its description (a JSON text; a timer's is `{"cron":"..."}`).
    #[serde(default)]
    pub(crate) trigger_desc: String,
    /// 1 when on.
    #[serde(default)]
    pub(crate) enable: i64,
    /// Version or alias it fires.
    #[serde(default)]
    pub(crate) qualifier: String,
}

/// A page of `ListTriggers`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TriggerPage {
    /// Triggers of the function in all.
    #[serde(default)]
    pub(crate) total_count: u32,
    /// This page.
    #[serde(default)]
    pub(crate) triggers: Vec<TriggerInfo>,
}

/// A trigger as `CreateTrigger` and `UpdateTrigger` take it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct TriggerSpec {
    /// Name.
    pub(crate) trigger_name: String,
    /// `timer` or `http`.
    #[serde(rename = "Type")]
    pub(crate) kind: String,
    /// The description as sent (a cron line for a timer, JSON for a Function URL).
    pub(crate) trigger_desc: String,
    /// Version or alias it fires.
    pub(crate) qualifier: String,
    /// `OPEN` or `CLOSE`.
    pub(crate) enable: String,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TriggerCall<'a> {
    function_name: &'a str,
    namespace: &'a str,
    #[serde(flatten)]
    trigger: &'a TriggerSpec,
}

/// `CreateTrigger`.
pub(crate) fn create_trigger(f: &FunctionRef, t: &TriggerSpec) -> Result<ApiCall, BuildError> {
    f.call(
        "CreateTrigger",
        &TriggerCall {
            function_name: &f.name,
            namespace: &f.namespace,
            trigger: t,
        },
    )
}

/// `UpdateTrigger` of the trigger named in `t`.
pub(crate) fn update_trigger(f: &FunctionRef, t: &TriggerSpec) -> Result<ApiCall, BuildError> {
    f.call(
        "UpdateTrigger",
        &TriggerCall {
            function_name: &f.name,
            namespace: &f.namespace,
            trigger: t,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn f() -> FunctionRef {
        FunctionRef {
            namespace: "default".into(),
            name: "mps-cos-backup".into(),
        }
    }

    fn body(call: &ApiCall) -> Value {
        serde_json::from_slice(&call.params).unwrap()
    }

    #[test]
    fn requests_carry_the_sdk_field_names() {
        let s = FunctionSettings {
            memory_mb: 64,
            timeout_s: 60,
            environment: vec![("COS_BUCKET".into(), "a-1250000000".into())],
            role: Some("r".into()),
            description: "d".into(),
        };
        let c = create_function(&f(), &s, "UEsFBg==").unwrap();
        assert_eq!(
            (c.service, c.version, c.action),
            ("scf", "2018-04-16", "CreateFunction")
        );
        assert_eq!(
            body(&c),
            serde_json::json!({"FunctionName":"mps-cos-backup","Namespace":"default",
                "Runtime":"CustomRuntime","Handler":"bootstrap","Type":"Event","MemorySize":64,
                "Timeout":60,"Environment":{"Variables":[{"Key":"COS_BUCKET","Value":"a-1250000000"}]},
                "Role":"r","Description":"d","Code":{"ZipFile":"UEsFBg=="}})
        );
        let e = update_event_invoke_config(&f(), 2, 21600).unwrap();
        assert_eq!(
            body(&e)["AsyncTriggerConfig"],
            serde_json::json!({"RetryConfig":[{"RetryNum":2}],"MsgTTL":21600})
        );
        let t = TriggerSpec {
            trigger_name: "reconcile-hourly".into(),
            kind: "timer".into(),
            trigger_desc: "0 0 * * * * *".into(),
            qualifier: "$LATEST".into(),
            enable: "OPEN".into(),
        };
        assert_eq!(
            body(&update_trigger(&f(), &t).unwrap()),
            serde_json::json!({"FunctionName":"mps-cos-backup","Namespace":"default",
                "TriggerName":"reconcile-hourly","Type":"timer","TriggerDesc":"0 0 * * * * *",
                "Qualifier":"$LATEST","Enable":"OPEN"})
        );
    }

    #[test]
    fn failed_states_carry_their_reasons() {
        let s: FunctionState = serde_json::from_value(serde_json::json!({
            "Status": "CreateFailed", "FunctionName": "x",
            "StatusReasons": [{"ErrorCode": "UnknownError", "ErrorMessage": "bootstrap not found"}]
        }))
        .unwrap();
        assert!(s.is_failed() && !s.is_active());
        assert_eq!(s.reasons(), "UnknownError: bootstrap not found");
        let absent = ApiFailure::Api {
            status: 200,
            code: "ResourceNotFound.Function".into(),
            message: String::new(),
            request_id: None,
        };
        assert!(is_function_absent(&absent));
    }
}
