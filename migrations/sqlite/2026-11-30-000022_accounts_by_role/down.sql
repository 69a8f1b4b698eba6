DROP INDEX users_role_status;
