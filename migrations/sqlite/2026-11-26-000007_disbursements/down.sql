DROP TABLE idempotency_keys;
DROP INDEX disbursements_paid_on;
DROP INDEX disbursements_application;
DROP TABLE disbursements;
DROP INDEX payment_instalments_application;
DROP TABLE payment_instalments;
