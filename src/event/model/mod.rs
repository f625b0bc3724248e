//! The SDK-shaped data model of the typed events, one file per family: the pieces every
//! family shares (`media`: where media came from, where results went, what they are), the
//! media-processing subtask results (`media_process`) and the one interface they are read
//! through (`subtask`), the AI results kept raw (`ai`), and the two trigger events,
//! `WorkflowTask` (`workflow`) and `EditMediaTask` (`edit`). The kinds that come only by URL
//! are in `notify`, built from the same pieces.
//!
//! Field names and types follow the official SDK models (`tencentcloud.mps.v20190612.models`).
//! Every field is optional and lenient (see `lenient`): a value of an unexpected JSON type
//! becomes `None` instead of failing the whole typed view, because a callback must never be
//! lost over a detail of its shape.

/// Declares a model struct whose fields are all `Option` and lenient, plus its `LenientDe`.
macro_rules! model {
    ($(#[$m:meta])* pub struct $name:ident { $($(#[$fm:meta])* pub $field:ident : $ty:ty,)* }) => {
        $(#[$m])*
        #[derive(Clone, Default, PartialEq, serde::Deserialize)]
        #[serde(rename_all = "PascalCase")]
        pub struct $name {
            $(
                $(#[$fm])*
                #[serde(default, deserialize_with = "lenient::opt")]
                pub $field: Option<$ty>,
            )*
        }
        impl lenient::LenientDe for $name {
            fn lenient<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Self>, D::Error> {
                d.deserialize_any(lenient::ObjV::<$name>(std::marker::PhantomData))
            }
        }
    };
}

mod ai;
mod edit;
mod media;
mod media_process;
#[macro_use]
mod subtask;
mod workflow;

pub(crate) use ai::*;
pub(crate) use edit::*;
pub(crate) use media::*;
pub(crate) use media_process::*;
pub(crate) use subtask::*;
pub(crate) use workflow::*;
