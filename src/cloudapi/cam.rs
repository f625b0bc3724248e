//! CAM's role and policy actions (Cloud API 3.0, version 2019-01-16) without I/O: the
//! requests with the official SDK's field names and types, the answers typed, and the trust
//! policy that lets SCF assume a role (`reference/scf-deploy.md`).

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::call::{ApiCall, BuildError, Failure};

/// Cloud API service of CAM.
pub const SERVICE: &str = "cam";
/// `X-TC-Version` of the CAM API.
pub const VERSION: &str = "2019-01-16";

fn call<P: Serialize>(action: &'static str, params: &P) -> Result<ApiCall, BuildError> {
    ApiCall::new(SERVICE, VERSION, action, params, format!("cam:{action}"))
}

/// The trust policy of a role SCF runs functions as.
pub fn scf_trust_policy() -> String {
    json!({
        "version": "2.0",
        "statement": [{
            "action": "name/sts:AssumeRole",
            "effect": "allow",
            "principal": {"service": ["scf.qcloud.com"]}
        }]
    })
    .to_string()
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RoleName<'a> {
    role_name: &'a str,
}

/// `GetRole`: the role, or `ResourceNotFound.RoleNotExist` ([`is_role_absent`]).
pub fn get_role(name: &str) -> Result<ApiCall, BuildError> {
    call("GetRole", &RoleName { role_name: name })
}

/// Whether a failure says the role does not exist.
pub fn is_role_absent(failure: &Failure) -> bool {
    failure
        .code()
        .is_some_and(|c| c.starts_with("ResourceNotFound.Role"))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreateRole<'a> {
    role_name: &'a str,
    policy_document: &'a str,
    description: &'a str,
}

/// `CreateRole` with the trust policy `trust`.
pub fn create_role(name: &str, trust: &str, description: &str) -> Result<ApiCall, BuildError> {
    call(
        "CreateRole",
        &CreateRole {
            role_name: name,
            policy_document: trust,
            description,
        },
    )
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CreatePolicy<'a> {
    policy_name: &'a str,
    policy_document: &'a str,
    description: &'a str,
}

/// `CreatePolicy` (a custom policy whose document is `document`).
pub fn create_policy(name: &str, document: &str, description: &str) -> Result<ApiCall, BuildError> {
    call(
        "CreatePolicy",
        &CreatePolicy {
            policy_name: name,
            policy_document: document,
            description,
        },
    )
}

/// The answer of `CreatePolicy`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CreatedPolicy {
    /// The new policy's id.
    pub policy_id: u64,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Attach<'a> {
    policy_id: u64,
    attach_role_name: &'a str,
}

/// `AttachRolePolicy`: attaches policy `policy_id` to role `role`.
pub fn attach_role_policy(policy_id: u64, role: &str) -> Result<ApiCall, BuildError> {
    call(
        "AttachRolePolicy",
        &Attach {
            policy_id,
            attach_role_name: role,
        },
    )
}

/// `GetUserAppId`: the account's `Uin` and `AppId` (resources of SCF policies name the uin).
pub fn get_user_app_id() -> Result<ApiCall, BuildError> {
    call("GetUserAppId", &json!({}))
}

/// The answer of `GetUserAppId`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Account {
    /// The caller's uin.
    pub uin: String,
    /// The account owner's uin: what resource names hold.
    pub owner_uin: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_requests_use_the_sdk_names_and_trust_scf() {
        let c = create_role("r", &scf_trust_policy(), "d").unwrap();
        assert_eq!((c.service, c.version), ("cam", "2019-01-16"));
        let body: serde_json::Value = serde_json::from_slice(&c.params).unwrap();
        let trust: serde_json::Value =
            serde_json::from_str(body["PolicyDocument"].as_str().unwrap()).unwrap();
        assert_eq!(
            trust["statement"][0]["principal"]["service"][0],
            "scf.qcloud.com"
        );
        let a = attach_role_policy(7, "r").unwrap();
        assert_eq!(&a.params[..], br#"{"PolicyId":7,"AttachRoleName":"r"}"#);
        assert!(is_role_absent(&Failure::Api {
            status: 200,
            code: "ResourceNotFound.RoleNotExist".into(),
            message: String::new(),
            request_id: None
        }));
    }
}
