## De auditweergave van een klacht: op elk moment, verschillen, het grootboek en de verificatie.

