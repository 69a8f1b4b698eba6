DROP INDEX companies_name_lower;
DROP TABLE company_bank_accounts;
DROP TABLE company_financials;
