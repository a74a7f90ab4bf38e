-- Two indexes an import paid for and few or no queries need.
--
-- Items are found by work through their records (catalog_records_work, then
-- catalog_items_record): an item's work is always its record's. The index
-- on the items' work_id cost an import more than anything else it wrote:
-- its entries for a batch's copies land on hundreds of different pages
-- (a quarter of the pages a batch of 500 records wrote to the WAL).
DROP INDEX catalog_items_work;

-- No query looks the clustering keys up by work.
DROP INDEX catalog_work_keys_work;
