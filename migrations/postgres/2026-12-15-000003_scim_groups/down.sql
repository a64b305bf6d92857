DROP TABLE scim_group_members;
DROP TABLE scim_groups;
