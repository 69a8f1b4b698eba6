DROP INDEX programs_support_family;
DROP INDEX application_invoices_invoice;
DROP INDEX application_invoices_application;
DROP INDEX application_invoices_live_claim;
DROP TABLE application_invoices;
ALTER TABLE programs DROP COLUMN max_support_ratio_percent;
ALTER TABLE programs DROP COLUMN support_family;
