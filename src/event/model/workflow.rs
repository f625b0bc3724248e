//! `WorkflowTask`: a workflow's callback, its media-processing subtasks typed and its AI,
//! quality-control, erase and dubbing results kept raw.

use serde_json::Value;

use super::ai::AiResult;
use super::media::{MediaInputInfo, MediaMetaData};
use super::media_process::MediaProcessTaskResult;
use crate::event::lenient;

model! {
    /// `WorkflowTask`: the payload of `EventType` = `WorkflowTask`.
    #[derive(Debug)]
    pub struct WorkflowTask {
        /// e.g. `1253112233-WorkflowTask-<32 hex>t2`.
        pub task_id: String,
        /// PROCESSING | FINISH.
        pub status: String,
        /// Deprecated at this level (subtasks carry errors), still honoured when non-zero.
        pub err_code: i64,
        /// Error code string; not in the SDK model at this level, honoured when non-empty.
        pub err_code_ext: String,
        /// Deprecated at this level.
        pub message: String,
        /// Source media.
        pub input_info: MediaInputInfo,
        /// Source metadata.
        pub meta_data: MediaMetaData,
        /// Media-processing subtasks.
        pub media_process_result_set: Vec<MediaProcessTaskResult>,
        /// Content review results.
        pub ai_content_review_result_set: Vec<AiResult>,
        /// Content analysis results.
        pub ai_analysis_result_set: Vec<AiResult>,
        /// Content recognition results.
        pub ai_recognition_result_set: Vec<AiResult>,
        /// Quality control result (`ScheduleQualityControlTaskResult`), kept raw.
        pub ai_quality_control_task_result: Value,
        /// Smart subtitles results.
        pub smart_subtitles_task_result: Vec<AiResult>,
        /// Smart erase result, kept raw.
        pub smart_erase_task_result: Value,
        /// AI dubbing result, kept raw.
        #[serde(rename = "AiDubbingTaskResult")]
        pub ai_dubbing_task_result: Value,
    }
}
