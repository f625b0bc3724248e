//! `EditMediaTask`: the callback of an edit (clip and compose) task, its clips and its
//! one output.

use super::media::{MediaInputInfo, MediaMetaData, TaskOutputStorage};
use crate::event::lenient;

model! {
    /// `EditMediaTask`: the payload of `EventType` = `EditMediaTask`.
    #[derive(Debug)]
    pub struct EditMediaTask {
        /// Task id.
        pub task_id: String,
        /// PROCESSING | FINISH.
        pub status: String,
        /// 0 = success.
        pub err_code: i64,
        /// Error code string; not in the SDK model, honoured when non-empty.
        pub err_code_ext: String,
        /// Error message.
        pub message: String,
        /// Inputs.
        pub input: EditMediaTaskInput,
        /// Output, null on failure.
        pub output: EditMediaTaskOutput,
    }
}

model! {
    /// `EditMediaTaskInput`.
    #[derive(Debug)]
    pub struct EditMediaTaskInput {
        /// Clips, in order.
        pub file_info_set: Vec<EditMediaFileInfo>,
    }
}

model! {
    /// `EditMediaFileInfo`.
    #[derive(Debug)]
    pub struct EditMediaFileInfo {
        /// Source media.
        pub input_info: MediaInputInfo,
        /// Seconds.
        pub start_time_offset: f64,
        /// Seconds.
        pub end_time_offset: f64,
        /// Clip id.
        pub id: String,
    }
}

model! {
    /// `EditMediaTaskOutput`.
    #[derive(Debug)]
    pub struct EditMediaTaskOutput {
        /// Storage of the output.
        pub output_storage: TaskOutputStorage,
        /// Object path.
        pub path: String,
        /// Output metadata.
        pub meta_data: MediaMetaData,
    }
}
