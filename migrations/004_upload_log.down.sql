DROP TRIGGER IF EXISTS videos_upload_logged ON videos;
DROP FUNCTION IF EXISTS upload_logged();
DROP TABLE IF EXISTS upload_log;
