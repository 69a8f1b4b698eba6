DROP INDEX users_company_id;
DROP TABLE users;
DROP TABLE companies;
