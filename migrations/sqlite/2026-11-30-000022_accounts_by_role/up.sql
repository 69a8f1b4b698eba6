-- Every submission tells the active reviewers, and every expert draw picks from the active experts: found on
-- this index, not by reading each of the province's 100,000 company accounts.
CREATE INDEX users_role_status ON users (role, status, id);
