//! The labels Docker Compose puts on what it creates, and berth with it, so either tool
//! recognises the other's stacks.

pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
pub const CONTAINER_NUMBER: &str = "com.docker.compose.container-number";
pub const ONEOFF: &str = "com.docker.compose.oneoff";
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const ENVIRONMENT_FILE: &str = "com.docker.compose.project.environment_file";
pub const VERSION: &str = "com.docker.compose.version";
pub const NETWORK: &str = "com.docker.compose.network";
pub const VOLUME: &str = "com.docker.compose.volume";

/// The Compose version berth's labels claim. docker-compose 1.x compares it (it treats
/// containers labelled older than 1.21 as legacy), so it must parse as a version; this is
/// the Compose release whose naming (`project_service_1`) berth follows.
pub const COMPOSE_VERSION: &str = "1.29.2";

/// A `label=` filter value for the daemon's list APIs.
pub fn filter(key: &str, value: &str) -> String {
    format!("{key}={value}")
}
