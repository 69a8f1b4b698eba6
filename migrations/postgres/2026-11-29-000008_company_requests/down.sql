DROP TABLE request_counters;
DROP INDEX request_messages_request;
DROP TABLE request_messages;
DROP INDEX company_requests_received;
DROP INDEX company_requests_assignee;
DROP INDEX company_requests_status_due;
DROP INDEX company_requests_company;
DROP TABLE company_requests;
